"""Turn an uploaded picture of a digit into a 28x28 MNIST-style array, the way MNIST was made.

The picture is turned upright (EXIF orientation), its ink found and made bright whatever the
polarity, colour, transparency, light or noise (app/imaging/ink.py), cropped to its bounding
box, fitted into 20x20 keeping the aspect ratio, and centred by its centre of mass in 28x28.
"""

from __future__ import annotations

import io
import warnings

import numpy as np
import numpy.typing as npt
from PIL import Image, UnidentifiedImageError

from app.errors import BlankImageError, InvalidImageError, PayloadTooLargeError
from app.imaging.guard import (
    probe as probe,  # re-exported: callers probe, then preprocess
)
from app.imaging.ink import digit_ink

FORMATS = ("PNG", "JPEG", "GIF", "BMP", "WEBP")
MEDIA_TYPES = ("image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp")
# Within the digit's marks, a pixel counts as ink from this share of the strongest one.
INK_THRESHOLD = 0.2
# EXIF orientation -> the turn that shows the picture upright (as ImageOps.exif_transpose).
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
ORIENTATION_TAG = 0x0112
# EXIF blocks are parsed by Pillow in Python; a JPEG's holds at most 64 KB, so larger ones
# (possible in PNG and WebP) are not read.
MAX_EXIF_BYTES = 65535
Pixels = npt.NDArray[np.float64]
# Larger images are averaged down to at most this many pixels as they are decoded: the float
# pipeline below then costs at most ~15 ms, and a digit a fiftieth of the picture wide still
# spans the 20 pixels of the MNIST box.
WORK_PIXELS = 1024 * 1024
WORK_SIDE = 4096  # and at most this long, for extreme aspect ratios


def decode(data: bytes, max_pixels: int) -> Image.Image:
    """A supported, still image that `probe` finds cheap, decoded at the working resolution."""
    pixels = probe(data, max_pixels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=FORMATS)
            if image.width * image.height != pixels:  # the probe and Pillow must agree
                raise InvalidImageError("The image's headers contradict each other.")
            if getattr(image, "n_frames", 1) > 1:  # a multi-picture JPEG (MPO)
                raise InvalidImageError("Animated images are not supported: send one frame.")
            factor = _reduction(image.size)
            if image.format == "JPEG" and factor > 1:
                # libjpeg scales by 1/2, 1/4 or 1/8 as it decodes (DCT scaling), in grey.
                image.draft("L", (-(-image.width // factor), -(-image.height // factor)))
            image.load()
            turn = UPRIGHT.get(_orientation(image))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own guard, for headers claiming far more pixels than any digit needs.
        raise PayloadTooLargeError(
            f"The image is too large to decode; at most {max_pixels} pixels are accepted."
        ) from exc
    except UnidentifiedImageError as exc:
        raise InvalidImageError(
            "The data is not a decodable PNG, JPEG, GIF, BMP or WebP image."
        ) from exc
    except (OSError, ValueError, SyntaxError, EOFError) as exc:  # Pillow's truncated/corrupt files
        raise InvalidImageError(f"The image could not be decoded: {exc}.") from exc
    shrunk = _shrink(image)
    # Turned after shrinking: the same pixels, a quarter of them or fewer to move.
    return shrunk if turn is None else shrunk.transpose(turn)


def _orientation(image: Image.Image) -> int:
    """The EXIF orientation (1: upright), as phones record how they were held."""
    exif = image.info.get("exif")
    if not isinstance(exif, bytes) or len(exif) > MAX_EXIF_BYTES:
        return 1
    value = image.getexif().get(ORIENTATION_TAG, 1)
    return value if isinstance(value, int) else 1


def _reduction(size: tuple[int, int]) -> int:
    """The smallest integer factor that brings an image within WORK_PIXELS and WORK_SIDE."""
    width, height = size
    factor = 1
    while -(-width // factor) * -(-height // factor) > WORK_PIXELS or (
        max(width, height) > WORK_SIDE * factor
    ):
        factor += 1
    return factor


def _shrink(image: Image.Image) -> Image.Image:
    """The image averaged down by `_reduction` into what ink_map reads: L, LA or 16/32-bit grey."""
    factor = _reduction(image.size)
    if factor == 1:
        return image
    size = (-(-image.width // factor), -(-image.height // factor))
    if image.mode.startswith("I"):  # ink_map scales these by their range; reduce refuses I;16
        return image.resize(size, Image.Resampling.BOX)
    # Grey (and alpha) apart, each a quarter of RGBA: reduce would premultiply a full RGBA copy.
    grey = (image if image.mode == "L" else image.convert("L")).reduce(factor)
    if not _has_alpha(image):
        return grey
    alpha = image.convert("LA").getchannel("A") if image.mode == "P" else image.getchannel("A")
    return Image.merge("LA", [grey, alpha.reduce(factor)])


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (
        image.mode == "P" and "transparency" in image.info
    )


def _bytes_array(image: Image.Image) -> Pixels:
    """An 8-bit single-band image as floats 0-255, read from its raw bytes (cheaper than
    Pillow's array interface on small images)."""
    raw = np.frombuffer(image.tobytes(), dtype=np.uint8)
    return raw.reshape(image.height, image.width).astype(np.float64)


def grey_levels(image: Image.Image) -> tuple[Pixels, bool | None]:
    """The picture as grey levels in [0, 1], and whether ink is bright in them (None: to be
    found). A transparent background makes the opacity the picture, whatever the colours."""
    if _has_alpha(image):
        alpha = _bytes_array(image.convert("RGBA").getchannel("A")) / 255
        if alpha.min() < 0.99:
            return alpha, True
    if image.mode.startswith("I"):
        # 16- or 32-bit greyscale: convert("L") would clip everything above 255 to white.
        values = np.asarray(image, dtype=np.float64)
        return values / (65535.0 if values.max() > 255 else 255.0), None
    return _bytes_array(image if image.mode == "L" else image.convert("L")) / 255, None


def ink_map(image: Image.Image) -> Pixels:
    """The digit's ink as bright values in [0, 1] on 0, whatever the input's polarity, light
    and noise; BlankImageError when no ink stands out."""
    return digit_ink(*grey_levels(image))


def to_mnist(ink: Pixels) -> Pixels:
    """Crop to the ink, fit into 20x20, centre by centre of mass in 28x28; values 0-255."""
    peak = float(ink.max())
    if peak <= 0:
        raise BlankImageError("The image is blank: no ink was found.")
    ink = ink / peak
    ink[ink < INK_THRESHOLD] = 0.0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    height, width = crop.shape
    scale = 20.0 / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    # Through raw float32 bytes: Pillow's array interface cost more than the resize itself.
    source = (crop * 255).astype(np.float32)
    patch = Image.frombytes("F", (width, height), source.tobytes()).resize(
        size, Image.Resampling.LANCZOS
    )
    resized = np.frombuffer(patch.tobytes(), dtype=np.float32).reshape(size[1], size[0])
    digit = resized.astype(np.float64).clip(0, 255)
    total = digit.sum()
    if total <= 0:
        raise BlankImageError("The image is blank: no ink was found.")
    centre_y = digit.sum(axis=1) @ np.arange(digit.shape[0]) / total
    centre_x = digit.sum(axis=0) @ np.arange(digit.shape[1]) / total
    top = int(round(14 - centre_y))
    left = int(round(14 - centre_x))
    canvas = np.zeros((28, 28))
    # Paste with clipping: a lopsided digit's centre of mass may push an edge off the canvas.
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + digit.shape[0], 28), min(left + digit.shape[1], 28)
    canvas[y0:y1, x0:x1] = digit[y0 - top : y1 - top, x0 - left : x1 - left]
    return canvas


def preprocess(data: bytes, max_pixels: int) -> Pixels:
    """Bytes of an uploaded image -> 28x28 floats, 0 background, 255 full ink."""
    return to_mnist(ink_map(decode(data, max_pixels)))


def digits_png(digits: npt.NDArray[np.float64]) -> bytes:
    """A (n, 784) batch of digits as one 8-bit greyscale PNG, 28 high and 28 x n wide."""
    tiles = digits.reshape(-1, 28, 28).clip(0, 255).round().astype(np.uint8)
    strip = np.ascontiguousarray(tiles.transpose(1, 0, 2).reshape(28, -1))
    buffer = io.BytesIO()
    Image.frombytes("L", (strip.shape[1], 28), strip.tobytes()).save(buffer, "PNG")
    return buffer.getvalue()
