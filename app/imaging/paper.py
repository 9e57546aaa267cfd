"""The paper under a photo's ink: its light (gradients, vignetting, shadows) estimated on a
thumbnail and taken away, so that what is left is ink and noise."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy import ndimage

Pixels = npt.NDArray[np.float64]
# The paper under the ink is estimated on a thumbnail this many pixels on its long side, by
# a morphological closing (an opening for bright ink): it fills strokes narrower than its
# square and keeps what changes slowly or in steps, like light, vignetting and shadow edges.
THUMB_SIDE = 160
POLARITY_SIDE = 32  # and the polarity on a smaller one, by a median filter
POLARITY_WINDOW = 0.7  # of its short side
PAPER_SQUARE = 0.45  # of the thumbnail's short side: wider than any digit's strokes
# A paper estimate whose middle 90 % varies less than this (0-1) is flat: clean scans and
# drawings keep one background level, not the slightly uneven one of a closing.
FLAT_RANGE = 0.03
DARKEST_PAPER = 0.05  # paper darker than this is read as this dark


def _thumbnail(grey: Pixels, side: int) -> tuple[Pixels, int]:
    """`grey` averaged down by an integer factor to at most `side` pixels on its long side."""
    factor = math.ceil(max(grey.shape) / side)
    return averaged(grey, factor), _factor(grey, factor)


def _factor(grey: Pixels, factor: int) -> int:
    return max(1, min(factor, int(grey.shape[0]), int(grey.shape[1])))


def averaged(grey: Pixels, factor: int) -> Pixels:
    """`grey` averaged over blocks of `factor` x `factor` pixels (a partial last one dropped;
    never fewer than one block across, however thin the picture)."""
    factor = _factor(grey, factor)
    if factor == 1:
        return grey
    height, width = grey.shape[0] // factor, grey.shape[1] // factor
    blocks = grey[: height * factor, : width * factor].reshape(height, factor, width, factor)
    return np.asarray(blocks.mean(axis=(1, 3)))


def _enlarge(small: Pixels, factor: int, shape: tuple[int, ...]) -> Pixels:
    """A thumbnail of `factor` x `factor` blocks back to `shape`, bilinearly (in C: Pillow)."""
    height, width = shape
    thumb = np.ascontiguousarray(small, dtype=np.float32)
    image = Image.frombytes("F", (thumb.shape[1], thumb.shape[0]), thumb.tobytes())
    size = (thumb.shape[1] * factor, thumb.shape[0] * factor)
    large = np.frombuffer(image.resize(size, Image.Resampling.BILINEAR).tobytes(), np.float32)
    # The pixels left over by whole blocks (fewer than `factor`) are held at the edge.
    extra = ((0, height - size[1]), (0, width - size[0]))
    return np.pad(large.reshape(size[1], size[0]), extra, mode="edge")


def _bright_ink(grey: Pixels) -> bool:
    """Whether ink is brighter than its paper: ink is the rarer extreme, once the light's slow
    changes are taken away by a median over most of the picture (more than the digit: ink is
    the minority there, and medians keep the steps of shadow edges)."""
    thumb, _ = _thumbnail(grey, POLARITY_SIDE)
    window = max(3, round(min(thumb.shape) * POLARITY_WINDOW))
    rough = thumb - ndimage.median_filter(thumb, size=window, mode="nearest")
    darkest, brightest = np.percentile(rough, [0.1, 99.9])
    return bool(brightest > -darkest)


def _fill(fill: Callable[..., Pixels], thumb: Pixels, square: int, bright_ink: bool) -> Pixels:
    """The paper under `thumb`: its strokes narrower than `square` filled by `fill`.

    Beyond the frame the light goes on changing as it did: a square cut short by the frame's
    edge, or an edge-held copy, would leave a band of false ink along it where light changes
    fast (vignetting, shadows reaching the edge). So the picture is framed by a point
    reflection of itself, which fails only where ink is near the edge (reflected, dark ink is
    bright paper), and by one of a first estimate of the paper, which fails only where light
    changes at the edge. Each errs by making the paper too far from the ink: the nearer wins.
    """
    rough = fill(thumb, size=square, mode="nearest")
    estimates = []
    for frame in (thumb, rough):
        padded = np.pad(frame, square, mode="reflect", reflect_type="odd")
        padded[square:-square, square:-square] = thumb
        estimates.append(fill(padded, size=square, mode="nearest")[square:-square, square:-square])
    nearer = np.maximum if bright_ink else np.minimum
    return np.asarray(nearer(*estimates))


def contrast(grey: Pixels, bright_ink: bool | None) -> tuple[Pixels, Pixels | float]:
    """How far each pixel stands from the paper under it, ink positive (signed, 0-1 scale),
    and what ink's contrast is a share of: for dark ink the paper's brightness there (light
    multiplies what paper and ink reflect, so the share is the same in a shadow as in full
    light), 1 for bright ink. `bright_ink` None: the polarity is found."""
    if bright_ink is None:
        bright_ink = _bright_ink(grey)
    thumb, factor = _thumbnail(grey, THUMB_SIDE)
    square = max(3, round(min(thumb.shape) * PAPER_SQUARE))
    fill = ndimage.grey_opening if bright_ink else ndimage.grey_closing
    paper = _fill(fill, thumb, square, bright_ink)
    low, high = np.percentile(paper, [5, 95])
    if high - low < FLAT_RANGE:
        background: Pixels | float = float(np.median(paper))
    else:
        background = _enlarge(paper, factor, grey.shape)
    if bright_ink:
        return grey - background, 1.0
    return background - grey, np.maximum(background, DARKEST_PAPER)
