"""Digits that fill their picture, as bench/digit_styles.py renders them: no margin, the ink
reaches the frame.

`crop`: an MNIST test digit cut to its ink's bounding box (as form readers and phone apps
segment digits), enlarged 1-6x by nearest-neighbour, bilinear or bicubic resampling. `small`: the
same cut, made square and shrunk to 8-20 pixels a side. `scan`: real handwriting from another
source than MNIST, scikit-learn's bundled `load_digits` (1,797 digits by 43 writers, UCI's optical
recognition set: 8x8 blocks of 0-16 grey levels, offline), enlarged to 64x64 by nearest-neighbour
or bilinear resampling. Each is a greyscale PNG, half of them dark ink on white.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from PIL import Image

Floats = npt.NDArray[np.float64]
Digit = npt.NDArray[np.uint8]
ENLARGING = (Image.Resampling.NEAREST, Image.Resampling.BILINEAR, Image.Resampling.BICUBIC)
SCAN_SIDE = 64
SCAN_LEVELS = 16  # load_digits counts the inked pixels of 4x4 blocks: 0-16


def tight(digit: Digit) -> Digit:
    """The digit cut to the bounding box of its ink (every pixel above 0)."""
    rows, cols = np.flatnonzero(digit.any(axis=1)), np.flatnonzero(digit.any(axis=0))
    return digit[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def _picture(bright: Image.Image, rng: np.random.Generator) -> tuple[Image.Image, Floats]:
    """`bright` (ink bright on 0), dark on white half the time; and its ink in [0, 1]."""
    ink = np.asarray(bright, dtype=np.float64) / 255
    if rng.random() < 0.5:
        return Image.fromarray(255 - np.asarray(bright)), ink
    return bright, ink


def crop(digit: Digit, rng: np.random.Generator) -> tuple[Image.Image, Floats]:
    """The digit's bounding box, enlarged 1-6x."""
    cut = Image.fromarray(tight(digit))
    factor = int(rng.integers(1, 7))
    resampling = ENLARGING[rng.integers(len(ENLARGING))]
    return _picture(cut.resize((cut.width * factor, cut.height * factor), resampling), rng)


def small(digit: Digit, rng: np.random.Generator) -> tuple[Image.Image, Floats]:
    """The digit's bounding box centred in a square as wide as its long side, averaged down
    to 8-20 pixels a side."""
    cut = tight(digit)
    side = max(cut.shape)
    square = np.zeros((side, side), np.uint8)
    top, left = (side - cut.shape[0]) // 2, (side - cut.shape[1]) // 2
    square[top : top + cut.shape[0], left : left + cut.shape[1]] = cut
    size = int(rng.integers(8, 21))
    return _picture(Image.fromarray(square).resize((size, size), Image.Resampling.BOX), rng)


def load_scans() -> tuple[Digit, npt.NDArray[np.int64]]:
    """scikit-learn's bundled handwritten digits (8x8, 0-16) as 0-255 levels, and labels."""
    from sklearn.datasets import load_digits

    scans = load_digits()
    levels = np.round(scans.images * 255 / SCAN_LEVELS).astype(np.uint8)
    return levels, np.asarray(scans.target, dtype=np.int64)


def scan(levels: Digit, rng: np.random.Generator) -> tuple[Image.Image, Floats]:
    """A small scan enlarged to 64x64, no margin added."""
    resampling = ENLARGING[rng.integers(2)]  # nearest-neighbour blocks or bilinear
    enlarged = Image.fromarray(levels).resize((SCAN_SIDE, SCAN_SIDE), resampling)
    return _picture(enlarged, rng)
