"""Tell a clean picture (a drawing, a scan, a transparent canvas, a digit cut to its ink) from a
photo of paper, before any light or noise is estimated, and find its paper's level.

A clean picture has no noise: its paper is one grey level, and the difference from it is the
ink (app/imaging/ink.py). Photos go the way of app/imaging/paper.py instead.
"""

from __future__ import annotations

import numpy as np

from app.imaging.paper import Pixels

# A picture whose frame (its outermost pixels) varies by no more than this is clean: drawn,
# scanned or on a transparent canvas; its one frame level is the paper (MNIST's own digits, and
# the pictures that worked before photos did, are read exactly as before).
CLEAN_FRAME = 2 / 255
# A picture whose ink reaches its frame (a digit cut to its bounding box, a small scan enlarged
# without a margin) is clean too when it is two-tone, free of noise: at least TWO_TONE_SHARE of
# its pixels, or PAPER_FRAME_SHARE of its frame's, lie within CLEAN_FRAME of its darkest or its
# brightest level (paper and full ink). Measured on bench/digit_styles.py's pictures: of 1,000
# tight crops, 0.086-0.92 of the picture and 0.14-0.93 of the frame, never both below the
# thresholds; small pictures 0.30 and 0.30 or more, small scans 0.18 and 0.54. Of 150 of each
# photo style, photos of a digit 0.02 and 0.08 at most, blank ones 0.09 and 0.13 (paper blown out
# to white): their noise puts only its tails at an extreme.
TWO_TONE_SHARE = 0.15
PAPER_FRAME_SHARE = 0.2


def clean_paper(grey: Pixels, bright_ink: bool | None) -> tuple[float, bool] | None:
    """The paper's level and the ink's polarity in a clean picture: one whose frame is one grey
    level, or, where the ink reaches the frame, one that is two-tone. None for a photo."""
    frame = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    paper = float(frame.min())
    darkest, brightest = float(grey.min()), float(grey.max())
    if float(frame.max()) - paper <= CLEAN_FRAME:
        if bright_ink is None:
            bright_ink = brightest - paper > paper - darkest
        return paper, bright_ink
    dark, bright = darkest + CLEAN_FRAME, brightest - CLEAN_FRAME
    two_tone = np.count_nonzero(grey <= dark) + np.count_nonzero(grey >= bright)
    dark_frame, bright_frame = np.count_nonzero(frame <= dark), np.count_nonzero(frame >= bright)
    if (
        two_tone < TWO_TONE_SHARE * grey.size
        and max(dark_frame, bright_frame) < PAPER_FRAME_SHARE * frame.size
    ):
        return None
    if bright_ink is None:
        bright_ink = bool(dark_frame >= bright_frame)  # paper lines the frame; ink crosses it
    return (darkest if bright_ink else brightest), bright_ink
