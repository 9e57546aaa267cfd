"""MNIST test digits re-rendered the ways people send digits, with a fixed seed.

Seven styles: `photo` (a dark digit on paper photographed with uneven light, a colour cast,
sensor noise, blur and JPEG, anywhere in the frame at 20-60 % of its height, slightly rotated),
`canvas` (the digit redrawn with a pen of uniform width on a transparent or white canvas,
off-centre or small), `exif` (a photo stored rotated, with the EXIF orientation that turns it
upright), `blank` (a photo of paper with no digit), and digits that fill their picture
(bench/filled_digits.py): `crop` (cut to the ink's bounding box, enlarged 1-6x), `small` (8-20
pixels a side) and `scan` (scikit-learn's 8x8 handwritten digits, another source than MNIST,
enlarged to 64x64). The MNIST test split was never trained on.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PIL import Image
from scipy import ndimage

from bench import filled_digits
from training.datasets.idx import read_idx

STYLES = ("photo", "canvas", "exif", "blank", "crop", "small", "scan")
FILLED = {"crop": filled_digits.crop, "small": filled_digits.small, "scan": filled_digits.scan}
SEED = 13
Floats = npt.NDArray[np.float64]
Digit = npt.NDArray[np.uint8]
# The EXIF orientations phones write, and how the stored pixels are turned from the upright view.
STORED = {
    3: Image.Transpose.ROTATE_180,
    6: Image.Transpose.ROTATE_90,
    8: Image.Transpose.ROTATE_270,
}
PHOTO_SIZES = ((640, 480), (600, 400), (800, 600), (1024, 768), (480, 640), (768, 1024))


@dataclass(frozen=True)
class Sample:
    """One rendered picture: its style, the MNIST digit it shows (None when blank), its bytes,
    and the ink as it was laid on the paper (turned and thickened, before light and noise)."""

    style: str
    index: int  # in the MNIST test split (in load_digits for scans); -1 for a blank
    label: int | None
    digit: Digit | None
    data: bytes
    content_type: str
    ink: Floats | None  # 0-1, cropped around the digit


def mnist_test_split(mnist_dir: Path) -> tuple[Digit, npt.NDArray[np.uint8]]:
    """The MNIST test split: (10000, 28, 28) uint8 with bright ink, and the labels."""
    images = read_idx(mnist_dir / "t10k-images-idx3-ubyte.gz", 3)
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", 1)
    return images, labels


def _encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def _ink(digit: Digit, height: int, degrees: float, rng: np.random.Generator) -> Floats:
    """The digit's ink as alpha in [0, 1], its 20-pixel MNIST box scaled to `height`, rotated."""
    side = max(8, round(height * 28 / 20))
    ink = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    ink = ink.rotate(degrees, Image.Resampling.BICUBIC, expand=True)
    alpha = np.asarray(ink, dtype=np.float64) / 255
    # Thicker or thinner pens than MNIST's, then clipped: ink is opaque where it is ink.
    gain = rng.uniform(1.2, 2.0)
    return np.clip(alpha * gain, 0.0, 1.0)


def _lighting(height: int, width: int, rng: np.random.Generator) -> Floats:
    """Light falling on the paper: a gradient, vignetting and sometimes a soft shadow (0-1)."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    y, x = y / height - 0.5, x / width - 0.5
    angle = rng.uniform(0, 2 * np.pi)
    light = 1 + rng.uniform(0, 0.4) * (np.cos(angle) * x + np.sin(angle) * y)
    light -= rng.uniform(0, 0.5) * (x**2 + y**2)
    if rng.random() < 0.4:  # the shadow of a hand or phone: a blurred half-plane
        edge = np.cos(angle + 1.3) * x + np.sin(angle + 1.3) * y - rng.uniform(-0.3, 0.3)
        light *= 1 - rng.uniform(0.15, 0.4) / (1 + np.exp(-edge / rng.uniform(0.02, 0.08)))
    return np.asarray(light / light.max())


def photo(
    digit: Digit | None, rng: np.random.Generator, size: tuple[int, int] | None = None
) -> tuple[Image.Image, Floats]:
    """A dark digit (or none) on light paper, photographed: an upright RGB picture, and the
    ink laid on the paper. `size`: width and height, else one of PHOTO_SIZES."""
    width, height = size or PHOTO_SIZES[rng.integers(len(PHOTO_SIZES))]
    ink = np.zeros((height, width))
    alpha = np.zeros((1, 1))
    if digit is not None:
        alpha = _ink(digit, round(height * rng.uniform(0.2, 0.6)), rng.uniform(-12, 12), rng)
        alpha = alpha[: height - 2, : width - 2]
        top = rng.integers(1, height - alpha.shape[0])
        left = rng.integers(1, width - alpha.shape[1])
        ink[top : top + alpha.shape[0], left : left + alpha.shape[1]] = alpha
    paper = rng.uniform(0.65, 0.95) * (1 + rng.uniform(-0.1, 0.1, 3))
    pen = rng.uniform(0.05, 0.3) * (1 + rng.uniform(-0.3, 0.3, 3))
    reflectance = paper * (1 - ink[..., None]) + pen * ink[..., None]
    pixels = reflectance * _lighting(height, width, rng)[..., None] * 255
    blur = rng.uniform(0, 1.5)
    if blur > 0.3:
        pixels = ndimage.gaussian_filter(pixels, (blur, blur, 0))
    pixels += rng.normal(0, rng.uniform(2, 12), pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).round().astype(np.uint8), "RGB"), alpha


def canvas(digit: Digit, rng: np.random.Generator) -> tuple[bytes, str, Floats]:
    """The digit redrawn with a round pen of uniform width, as a drawing pad saves it: MNIST's
    pen line, smoothed and cut at half height, grown or thinned to a random width."""
    side = int(rng.choice([280, 400, 512]))
    height = round(side * rng.uniform(0.25, 0.8))
    large = Image.fromarray(digit).resize((height * 28 // 20,) * 2, Image.Resampling.BICUBIC)
    shape = ndimage.gaussian_filter(np.asarray(large, dtype=np.float64), height / 60) > 110
    outside = ndimage.distance_transform_edt(~shape) - ndimage.distance_transform_edt(shape)
    grow = height * rng.uniform(-0.01, 0.015)
    alpha = np.clip(grow + 0.5 - outside, 0.0, 1.0)  # anti-aliased edges
    ink = np.zeros((side, side))
    size = min(alpha.shape[0], side)
    alpha = alpha[:size, :size]
    top, left = rng.integers(0, side - size + 1, 2)
    ink[top : top + size, left : left + size] = alpha
    colour = rng.integers(0, 90, 3)
    if rng.random() < 0.5:  # transparent background: the strokes are opaque, any colour
        rgba = np.zeros((side, side, 4), np.uint8)
        rgba[..., :3] = colour
        rgba[..., 3] = np.round(ink * 255).astype(np.uint8)
        return _encode(Image.fromarray(rgba, "RGBA"), "PNG"), "image/png", alpha
    white = 255 * (1 - ink[..., None]) + colour * ink[..., None]
    picture = Image.fromarray(white.round().astype(np.uint8), "RGB")
    return _encode(picture, "PNG"), "image/png", alpha


def exif_jpeg(upright: Image.Image, orientation: int, quality: int) -> bytes:
    """`upright` stored turned, with the EXIF orientation tag that shows it upright again."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    stored = upright.transpose(STORED[orientation])
    return _encode(stored, "JPEG", quality=quality, exif=exif.tobytes())


def render(style: str, digit: Digit | None, rng: np.random.Generator) -> tuple[bytes, str, Floats]:
    """One picture of `digit` in `style`: its bytes, content type and the ink laid down."""
    if style == "canvas" and digit is not None:
        return canvas(digit, rng)
    if style in FILLED and digit is not None:
        picture, ink = FILLED[style](digit, rng)
        return _encode(picture, "PNG"), "image/png", ink
    picture, ink = photo(None if style == "blank" else digit, rng)
    if style == "exif":
        orientation = int(rng.choice(list(STORED)))
        return exif_jpeg(picture, orientation, int(rng.integers(70, 95))), "image/jpeg", ink
    return _encode(picture, "JPEG", quality=int(rng.integers(60, 95))), "image/jpeg", ink


def samples(
    mnist_dir: Path, per_style: int, seed: int = SEED, styles: tuple[str, ...] = STYLES
) -> Iterator[Sample]:
    """`per_style` pictures of each of `styles`, from digits picked with a fixed seed (each
    style's own: the pictures of one style do not depend on which others are rendered)."""
    mnist = mnist_test_split(mnist_dir)
    for number, style in enumerate(STYLES):
        if style not in styles:
            continue
        rng = np.random.default_rng([seed, number])
        images, labels = filled_digits.load_scans() if style == "scan" else mnist
        picks = rng.choice(len(images), per_style, replace=False)
        for index in picks.tolist():
            digit = None if style == "blank" else images[index]
            data, content_type, ink = render(style, digit, rng)
            if digit is None:
                yield Sample(style, -1, None, None, data, content_type, None)
            else:
                yield Sample(style, index, int(labels[index]), digit, data, content_type, ink)
