"""Find a digit's ink in a picture the way a person would: take away the paper and its light
(app/imaging/paper.py), measure the noise, keep the marks that stand out from it and belong to
the digit.

Photos of paper have uneven light (gradients, vignetting, shadows), sensor noise and JPEG
artefacts; a fixed fraction of the darkest value no longer separates ink from paper there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from app.errors import BlankImageError
from app.imaging.paper import Pixels, averaged, contrast

# A picture whose frame (its outermost pixels) varies by no more than this is clean: drawn,
# scanned or on a transparent canvas; its one frame level is the paper (MNIST's own digits, and
# the pictures that worked before photos did, are read exactly as before).
CLEAN_FRAME = 2 / 255
# Other pictures (photos) are read averaged down to at most this many pixels.
PHOTO_PIXELS = 512 * 512
# Ink stands out when its smoothed contrast with the paper reaches this many times the noise
# (the median absolute deviation over the picture) and MIN_CONTRAST of full scale. Measured
# with `python -m bench digits --measure` on 150 pictures of each style: the strongest mark of
# a blank photo reaches 16.2 times its noise, the digit of a photo 35.5 times or more (canvas
# drawings 173); 24 is the middle, in ratio. MIN_CONTRAST is the rule before photos.
STANDS_OUT_SIGMAS = 24.0
MIN_CONTRAST = 0.05
# Marks are traced down to this many noise levels (hysteresis below STANDS_OUT_SIGMAS).
TRACE_SIGMAS = 3.0
# Marks are found on the contrast averaged over squares of 1/150 of the picture's long side
# (none below 150 pixels: a small picture's strokes are a few pixels wide).
SMOOTHING = 300
# ... and down to this share of the strongest mark: fainter ink is cut by INK_THRESHOLD anyway,
# and a faint haze (a shadow's rim) must not join a digit to the frame's edge.
TRACE_SHARE = 0.15
NOISE_FLOOR = 1 / 255  # 8-bit quantisation: clean pictures have no other noise
# Pieces with less ink than this share of the largest are specks of dust or noise.
SPECK_SHARE = 0.02
# Pieces of the digit other than its main stroke lie within this share of the main stroke's
# height and width of it (a 5's bar, a 4's open top); marks farther off are something else.
NEAR_SHARE = 0.5
# Ink below this share of the strongest is kept only within a smoothing square of stronger ink.
CORE_SHARE = 0.5


def noise_level(signed: Pixels) -> tuple[float, float]:
    """The paper's level and its noise's standard deviation, from the spread below the median
    (ink only adds values above it: a large digit would inflate a plain median deviation)."""
    step = max(1, math.isqrt(signed.size // 65536))
    lower, centre = np.percentile(signed[::step, ::step], [25, 50])
    return float(centre), max(NOISE_FLOOR, float(centre - lower) / 0.6745)


@dataclass(frozen=True)
class Marks:
    """The connected marks that differ from the paper by more than the noise."""

    signed: Pixels  # each pixel's contrast with the paper, ink positive, median 0
    paper: Pixels | float  # what the contrast is a share of (see `contrast`)
    smooth: Pixels  # the contrast averaged over squares `smoothing` pixels wide
    smoothing: int
    noise: float  # the standard deviation of `smooth` on bare paper
    labels: npt.NDArray[np.int32]  # 0: paper; k: the k-th mark
    masses: Pixels  # per label (0 too), the sum of its contrast
    inner: npt.NDArray[np.bool_]  # per label (0 too), whether it keeps off the frame's edge

    @property
    def peak(self) -> float:
        """The strongest smoothed contrast of any mark."""
        return float(self.smooth.max())

    def standing_out(self, strong: float) -> list[int]:
        """The labels of the marks that reach `strong`: those off the frame's edge, unless
        there are none (a mark along the edge is the paper's or the table's, or a digit cut
        by it)."""
        marks = np.unique(self.labels[self.smooth >= strong]).tolist()
        marks = [label for label in marks if label]
        return [label for label in marks if self.inner[label]] or marks


def find_marks(grey: Pixels, bright_ink: bool | None) -> Marks:
    """The picture's marks (at most PHOTO_PIXELS of it), traced on a smoothed contrast down to
    TRACE_SIGMAS of noise and TRACE_SHARE of the strongest."""
    # A photo's digit fills a fifth of its height or more: a quarter megapixel is plenty.
    grey = averaged(grey, math.ceil(math.sqrt(grey.size / PHOTO_PIXELS)))
    # Marks are found in grey levels, where the sensor's noise is the same in light and shadow.
    signed, paper = contrast(grey.astype(np.float32), bright_ink)
    # Smoothed over a few pixels for finding marks: noise shrinks, strokes do not.
    size = round(max(grey.shape) / SMOOTHING) * 2 + 1
    smooth = ndimage.uniform_filter(signed, size, mode="nearest") if size > 1 else signed
    centre, noise = noise_level(smooth)
    signed, smooth = signed - centre, smooth - centre
    trace = max(TRACE_SIGMAS * noise, MIN_CONTRAST / 2, TRACE_SHARE * float(smooth.max()))
    labels, count = ndimage.label(smooth > trace)
    sums = np.bincount(labels.ravel(), weights=signed.ravel(), minlength=count + 1)
    masses = np.asarray(sums, dtype=np.float64)
    margin = size // 2 + 1  # the smoothing reaches this far in from the frame
    frame = [labels[:margin], labels[-margin:], labels[:, :margin].T, labels[:, -margin:].T]
    on_edge = np.zeros(count + 1, dtype=bool)
    on_edge[np.concatenate([part.ravel() for part in frame])] = True
    return Marks(signed, paper, smooth, size, noise, labels, masses, ~on_edge)


def _blank(peak: float, noise: float, strong: float) -> BlankImageError:
    return BlankImageError(
        f"The image is blank: no ink stands out from the background. Its strongest mark "
        f"differs from the paper by {peak * 255:.0f} grey levels, {peak / noise:.1f} times the "
        f"noise ({noise * 255:.1f} levels); ink must reach {strong * 255:.0f}."
    )


def _clean_ink(grey: Pixels, bright_ink: bool | None) -> Pixels | None:
    """The ink of a clean picture (a drawing, a scan, a transparent canvas: a frame of one
    grey level), as the difference from that level; None for any other picture."""
    frame = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    paper = float(frame.min())
    if float(frame.max()) - paper > CLEAN_FRAME:
        return None
    darkest, brightest = float(grey.min()), float(grey.max())
    if bright_ink is None:
        bright_ink = brightest - paper > paper - darkest
    strong = max(STANDS_OUT_SIGMAS * NOISE_FLOOR, MIN_CONTRAST)
    peak = brightest - paper if bright_ink else paper - darkest
    if peak < strong:
        raise _blank(peak, NOISE_FLOOR, strong)
    if bright_ink:
        # (A transparent canvas's opacity is its ink as it is: no copy.)
        return grey if paper == darkest == 0 else np.clip(grey - paper, 0.0, None)
    return np.clip(paper - grey, 0.0, None)


def digit_ink(grey: Pixels, bright_ink: bool | None = None) -> Pixels:
    """The digit's ink, bright on 0, every other mark removed; BlankImageError if none
    stands out from the picture's noise."""
    clean = _clean_ink(grey, bright_ink)
    if clean is not None:
        return clean
    marks = find_marks(grey, bright_ink)
    strong = max(STANDS_OUT_SIGMAS * marks.noise, MIN_CONTRAST)
    candidates = marks.standing_out(strong)
    if not candidates:
        raise _blank(marks.peak, marks.noise, strong)
    main = max(candidates, key=lambda label: marks.masses[label])
    # Pieces with far less ink than the digit's main stroke are specks of dust or noise.
    pieces = [
        label for label in candidates if marks.masses[label] >= SPECK_SHARE * marks.masses[main]
    ]
    numbers = np.zeros(len(marks.inner), dtype=np.int32)
    numbers[pieces] = np.arange(1, len(pieces) + 1)
    boxes = ndimage.find_objects(numbers[marks.labels])
    rows, cols = boxes[pieces.index(main)]
    # The pieces of a digit lie near each other: within half the main stroke's size of it.
    near_rows = _grown(rows, NEAR_SHARE)
    near_cols = _grown(cols, NEAR_SHARE)
    kept = np.zeros(len(marks.inner), dtype=bool)
    for label, (piece_rows, piece_cols) in zip(pieces, boxes, strict=True):
        kept[label] = _overlap(piece_rows, near_rows) and _overlap(piece_cols, near_cols)
    ink = np.where(kept[marks.labels], np.clip(marks.signed, 0, None) / marks.paper, 0)
    # Faint ink only at the edge of strokes (blur, anti-aliasing): a shadow's rim that the
    # paper's estimate missed may touch the digit, but it reaches far from its strokes.
    core = ink >= CORE_SHARE * float(ink.max())
    reach = 2 * marks.smoothing + 1
    near = ndimage.uniform_filter(core.astype(np.float32), reach, mode="constant") > 0
    return np.asarray(np.where(near, ink, 0), dtype=np.float64)


def _grown(span: slice, share: float) -> tuple[float, float]:
    """A box's side, grown by `share` of its length at each end."""
    start, stop = int(span.start), int(span.stop)
    margin = (stop - start) * share
    return start - margin, stop + margin


def _overlap(span: slice, near: tuple[float, float]) -> bool:
    return bool(span.start < near[1] and span.stop > near[0])
