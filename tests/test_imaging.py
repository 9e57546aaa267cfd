"""Pictures to digits: probe refuses costly files from their headers, preprocess decodes the rest
at a bounded resolution and gives ordinary images the same output as before."""

from __future__ import annotations

import hashlib
import io
import struct
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from app.errors import InvalidImageError, PayloadTooLargeError
from app.imaging.guard import (
    MAX_GIF_BLOCKS,
    MAX_JPEG_MARKERS,
    MAX_JPEG_SCANS,
    MAX_PNG_CHUNKS,
    MAX_PNG_COMPRESSED_CHUNKS,
    MAX_SIDE,
)
from app.imaging.preprocess import preprocess, probe
from bench import jpeg_bomb as bomb
from tests.helpers import REPO, mnist_digits, png_bytes

PIXELS = 25_000_000


def _ordinary_images(digit: np.ndarray) -> dict[str, bytes]:
    """One MNIST digit as the pictures users send, none over a megapixel."""
    ink = Image.fromarray(digit)
    paper = Image.fromarray(255 - digit)
    big_ink = ink.resize((280, 280), Image.Resampling.BICUBIC)
    big_paper = paper.resize((280, 280), Image.Resampling.BICUBIC)
    transparent = Image.new("RGBA", (280, 280), (0, 0, 0, 0))
    transparent.putalpha(big_ink)
    see_through = big_ink.convert("P")
    see_through.info["transparency"] = 0
    return {
        "28 px L PNG, ink": png_bytes(ink),
        "28 px L PNG, paper": png_bytes(paper),
        "280 px L PNG, ink": png_bytes(big_ink),
        "280 px L PNG, paper": png_bytes(big_paper),
        "280 px RGB PNG": png_bytes(big_paper.convert("RGB")),
        "280 px RGBA PNG, transparent": png_bytes(transparent),
        "280 px LA PNG": png_bytes(big_paper.convert("LA")),
        "280 px P PNG": png_bytes(big_paper.convert("P")),
        "280 px P PNG, transparent": png_bytes(see_through),
        "280 px 1-bit PNG": png_bytes(big_paper.convert("1")),
        "280 px 16-bit PNG": png_bytes(Image.fromarray(np.asarray(big_paper, np.uint16) * 257)),
        "280 px RGB JPEG": png_bytes(big_paper.convert("RGB"), "JPEG"),
        "280 px L JPEG, ink": png_bytes(big_ink, "JPEG"),
        "280 px CMYK JPEG": png_bytes(big_paper.convert("CMYK"), "JPEG"),
        "280 px progressive JPEG": bomb.encode(big_paper.convert("RGB"), "JPEG", progressive=True),
        "280 px GIF, ink": png_bytes(big_ink, "GIF"),
        "280 px BMP": png_bytes(big_paper.convert("RGB"), "BMP"),
        "280 px lossless WebP": bomb.encode(big_paper, "WEBP", lossless=True),
        "280 px lossy WebP": bomb.encode(big_paper, "WEBP"),
        "1000 px L PNG": png_bytes(paper.resize((1000, 1000), Image.Resampling.BICUBIC)),
        "1000 px RGB JPEG": png_bytes(
            paper.resize((1000, 1000), Image.Resampling.BICUBIC).convert("RGB"), "JPEG"
        ),
    }


def _digests(
    images: list[np.ndarray], preprocess_image: Callable[[bytes], np.ndarray]
) -> dict[str, str]:
    """Per kind of picture, the start of the SHA-256 of its outputs for all the digits."""
    outputs: dict[str, list[np.ndarray]] = {}
    for digit in images:
        for name, data in _ordinary_images(digit).items():
            outputs.setdefault(name, []).append(preprocess_image(data))
    return {
        name: hashlib.sha256(np.stack(arrays).tobytes()).hexdigest()[:16]
        for name, arrays in outputs.items()
    }


# The outputs of preprocess before it decoded large images reduced (commit 90c536c), for the
# first 6 MNIST test digits, with Pillow 13.0.0 and NumPy 2.4.6. Clean pictures (a frame of one
# grey level) are read as they always were; lossy ones (JPEG, lossy WebP) go through the photo
# path since issue 13 and are compared with their lossless twin in the next test.
FROZEN = {
    "28 px L PNG, ink": "bd82e4d8cd178905",
    "28 px L PNG, paper": "29e61c2a4799d7ca",
    "280 px L PNG, ink": "65df7d3de3b029ee",
    "280 px L PNG, paper": "857ab341976a4ef5",
    "280 px RGB PNG": "857ab341976a4ef5",
    "280 px RGBA PNG, transparent": "65df7d3de3b029ee",
    "280 px LA PNG": "857ab341976a4ef5",
    "280 px P PNG": "857ab341976a4ef5",
    "280 px P PNG, transparent": "391824e3d680f1e1",
    "280 px 1-bit PNG": "faa70d0464ef880b",
    "280 px 16-bit PNG": "857ab341976a4ef5",
    "280 px GIF, ink": "65df7d3de3b029ee",
    "280 px BMP": "857ab341976a4ef5",
    "280 px lossless WebP": "857ab341976a4ef5",
    "1000 px L PNG": "8b5556e929e4e775",
}
LOSSY = ("280 px RGB JPEG", "280 px L JPEG, ink", "280 px CMYK JPEG", "280 px progressive JPEG")
LOSSY += ("280 px lossy WebP", "1000 px RGB JPEG")


def test_clean_images_preprocess_exactly_as_before(mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 6)
    digests = _digests(list(images), lambda data: preprocess(data, PIXELS))
    assert {name: digests[name] for name in FROZEN} == FROZEN


def test_lossy_images_preprocess_as_their_lossless_twin(mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 6)
    for digit in images:
        arrays = {name: preprocess(data, PIXELS) for name, data in _ordinary_images(digit).items()}
        reference = arrays["280 px L PNG, paper"]
        for name in LOSSY:
            # Mean absolute difference per pixel, 0-255: up to 2 here (JPEG's ringing kept
            # as faint ink); between drawings of one digit it is up to 12.
            assert np.abs(arrays[name] - reference).mean() < 3, name


def _kinds(digit: np.ndarray, side: int) -> dict[str, bytes]:
    """The digit drawn side x side pixels large, in the modes that take each path of _shrink."""
    ink = Image.fromarray(digit).resize((side, side), Image.Resampling.BICUBIC)
    paper = Image.fromarray(255 - digit).resize((side, side), Image.Resampling.BICUBIC)
    transparent = Image.new("RGBA", ink.size, (0, 0, 0, 0))
    transparent.putalpha(ink)
    see_through = ink.convert("P")
    see_through.info["transparency"] = 0
    return {
        "L PNG": png_bytes(paper),
        "RGB JPEG": png_bytes(paper.convert("RGB"), "JPEG"),  # scaled by libjpeg as it decodes
        "progressive JPEG": bomb.encode(paper.convert("RGB"), "JPEG", progressive=True),
        "RGBA PNG, transparent": png_bytes(transparent),
        "P PNG, transparent": png_bytes(see_through),
        "1-bit PNG": png_bytes(paper.convert("1")),
        "16-bit PNG": png_bytes(Image.fromarray(np.asarray(paper, np.uint16) * 257)),
        "GIF": png_bytes(ink, "GIF"),
    }


def test_large_images_decode_reduced_to_much_the_same_digit(mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 2)
    for digit in images:
        # 1600 px: 2.6 megapixels, halved as it is decoded; 280 px: decoded as it is.
        large, small = _kinds(digit, 1600), _kinds(digit, 280)
        for name, data in large.items():
            array, reference = preprocess(data, PIXELS), preprocess(small[name], PIXELS)
            # Mean absolute difference per pixel, on a 0-255 scale: under 1.5 but for the
            # dithered 1-bit picture (up to 6); between drawings of one digit it is up to 12.
            assert np.abs(array - reference).mean() < 8, name


def _os2_bmp(picture: Image.Image) -> bytes:
    """A BMP with the 12-byte header of OS/2 1.x: 16-bit sizes."""
    pixels = bomb.encode(picture, "BMP")[54:]
    header = struct.pack("<IHHHH", 12, picture.width, picture.height, 1, 24)
    return b"BM" + struct.pack("<IHHI", 26 + len(pixels), 0, 0, 26) + header + pixels


def _formats(width: int, height: int) -> dict[str, bytes]:
    picture = bomb.bar(width, height, "RGB")
    return {
        "PNG": bomb.encode(picture, "PNG"),
        "JPEG": bomb.encode(picture, "JPEG"),
        "progressive JPEG": bomb.encode(picture, "JPEG", progressive=True),
        "GIF": bomb.encode(picture.convert("P"), "GIF"),
        "BMP": bomb.encode(picture, "BMP"),
        "OS/2 BMP": _os2_bmp(picture),
        "lossy WebP": bomb.encode(picture, "WEBP"),
        "lossless WebP": bomb.encode(picture, "WEBP", lossless=True),
        "WebP with alpha": bomb.encode(picture.convert("RGBA"), "WEBP"),
    }


@pytest.mark.parametrize("name", list(_formats(3, 2)))
def test_probe_counts_width_times_height(name: str) -> None:
    data = _formats(37, 23)[name]
    assert probe(data, PIXELS) == 37 * 23
    with Image.open(io.BytesIO(data)) as image:
        assert image.size == (37, 23)
    assert preprocess(data, PIXELS).shape == (28, 28)


def test_probe_counts_a_gif_frame_larger_than_its_screen() -> None:
    data = bomb.oversized_frame_gif(300)
    assert probe(data, PIXELS) == 300 * 300
    with pytest.raises(PayloadTooLargeError):
        probe(data, 300 * 300 - 1)


def _claiming(data: bytes, name: str, width: int, height: int) -> bytes:
    """`data` with its header claiming width x height pixels; the pixel data stays as it is."""
    if name == "PNG":
        return data[:16] + struct.pack(">II", width, height) + data[24:]
    if name == "JPEG":  # the frame header of a baseline or progressive JPEG
        frame = max(data.find(b"\xff\xc0"), data.find(b"\xff\xc2")) + 5
        return data[:frame] + struct.pack(">HH", height, width) + data[frame + 4 :]
    if name == "GIF":
        return data[:6] + struct.pack("<HH", width, height) + data[10:]
    if name == "BMP":
        return data[:18] + struct.pack("<ii", width, height) + data[26:]
    bits = (width - 1) | (height - 1) << 14  # lossless WebP
    return data[:21] + struct.pack("<I", bits | (data[24] >> 4) << 28) + data[25:]


@pytest.mark.parametrize("name", ["PNG", "JPEG", "GIF", "BMP", "lossless WebP"])
def test_an_over_limit_header_is_refused_before_decoding(name: str) -> None:
    data = _claiming(_formats(40, 30)[name], name.split()[-1], 6000, 5000)
    # Decoding would have failed on the missing pixels with a 422: the 413 came from the header.
    for check in (probe, preprocess):
        with pytest.raises(PayloadTooLargeError, match="6000x5000"):
            check(data, PIXELS)


def test_the_pixel_limit_is_the_callers() -> None:
    data = _formats(40, 30)["PNG"]
    assert probe(data, 1200) == 1200
    with pytest.raises(PayloadTooLargeError, match="at most 1199"):
        probe(data, 1199)


def test_a_side_longer_than_any_digit_needs_is_refused() -> None:
    with pytest.raises(PayloadTooLargeError, match="no side"):
        probe(bomb.raw_png(1, MAX_SIDE + 1), PIXELS)


def _animated(image_format: str) -> bytes:
    frames = [bomb.bar(40, 30, "RGB"), Image.new("RGB", (40, 30), "white")]
    return bomb.encode(frames[0], image_format, save_all=True, append_images=frames[1:])


@pytest.mark.parametrize("image_format", ["GIF", "PNG", "WEBP"])
def test_animated_images_are_refused(image_format: str) -> None:
    data = _animated(image_format)
    for check in (probe, preprocess):
        with pytest.raises(InvalidImageError, match="Animated"):
            check(data, PIXELS)


def test_the_jpeg_scan_bomb_is_refused_by_probe() -> None:
    with pytest.raises(InvalidImageError, match="JPEG scans"):
        probe(bomb.scan_bomb_jpeg(), PIXELS)


def test_a_progressive_jpeg_may_have_up_to_the_scan_limit() -> None:
    pillows = bomb.jpeg_scan_count(bomb.encode(bomb.bar(64, 64, "RGB"), "JPEG", progressive=True))
    at_limit = bomb.scan_bomb_jpeg(64, MAX_JPEG_SCANS - pillows)
    assert bomb.jpeg_scan_count(at_limit) == MAX_JPEG_SCANS
    assert probe(at_limit, PIXELS) == 64 * 64
    assert preprocess(at_limit, PIXELS).shape == (28, 28)
    with pytest.raises(InvalidImageError, match="JPEG scans"):
        probe(bomb.scan_bomb_jpeg(64, MAX_JPEG_SCANS - pillows + 1), PIXELS)


@pytest.mark.parametrize("mode", ["L", "RGB", "CMYK"])
def test_progressive_jpegs_from_libjpeg_are_well_within_the_scan_limit(mode: str) -> None:
    data = bomb.encode(bomb.bar(64, 64, mode), "JPEG", progressive=True)
    assert bomb.jpeg_scan_count(data) <= 18 < MAX_JPEG_SCANS


def test_a_progressive_jpeg_too_large_to_hold_in_memory_is_refused() -> None:
    small = bomb.encode(bomb.bar(40, 30, "CMYK"), "JPEG", progressive=True, subsampling=0)
    # 25 megapixels of 4 components: 200 MB of DCT coefficients.
    with pytest.raises(PayloadTooLargeError, match="several scans"):
        probe(_claiming(small, "JPEG", 5000, 5000), PIXELS)


CRAFTED: dict[str, tuple[Callable[[], bytes], str]] = {
    "PNG of many chunks": (lambda: bomb.chunk_flood_png(16, MAX_PNG_CHUNKS), "PNG chunks"),
    "PNG of many ICC profiles": (
        lambda: bomb.icc_flood_png(16, MAX_PNG_COMPRESSED_CHUNKS + 1),
        "compressed PNG chunks",
    ),
    "GIF of tiny blocks": (lambda: bomb.block_flood_gif(16, MAX_GIF_BLOCKS), "GIF data blocks"),
    "JPEG of many segments": (
        lambda: bomb.segment_flood_jpeg(16, MAX_JPEG_MARKERS),
        "JPEG markers",
    ),
    "JPEG with junk between segments": (lambda: bomb.junk_jpeg(16, 100), "no JPEG marker"),
    "RLE8 BMP": (lambda: bomb.rle_bmp(16, 16, rle4=False), "Run-length"),
    "RLE4 BMP": (lambda: bomb.rle_bmp(16, 16, rle4=True), "Run-length"),
}


@pytest.mark.parametrize("name", list(CRAFTED))
def test_files_that_pillow_would_parse_slowly_are_refused(name: str) -> None:
    make, message = CRAFTED[name]
    with pytest.raises(InvalidImageError, match=message):
        probe(make(), PIXELS)


# Runs in a fresh interpreter: the rise of its peak RSS while preprocessing, in MB. The peak is
# first reset to the current RSS: ru_maxrss would also count the parent that spawned it.
PEAK_RSS = """
import re
from app.imaging.preprocess import preprocess
from bench.jpeg_bomb import raw_png

def peak_kb():
    return int(re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read())[1])

data = raw_png(5000, 5000, colour_type=3)
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")
base = peak_kb()
preprocess(data, 25_000_000)
print((peak_kb() - base) / 1024)
"""


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")
def test_preprocessing_a_worst_25_megapixel_png_stays_under_256_mb() -> None:
    # A palette with transparency: the most memory of any PNG (144 MB in bench.imaging_cost).
    done = subprocess.run(
        [sys.executable, "-c", PEAK_RSS], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert float(done.stdout) < 256, done.stdout


@pytest.mark.parametrize(
    "shape", [(1, 5000), (5000, 1), (2, 9000), (9000, 3), (3, 300), (40, 30000)]
)
@pytest.mark.parametrize("kind", ["noise", "cross"])
def test_thin_pictures_give_a_digit_or_a_4xx(shape: tuple[int, int], kind: str) -> None:
    # Thinner than the thumbnails and blocks the photo path averages over.
    if kind == "noise":
        pixels = np.random.default_rng(0).integers(100, 160, shape).astype(np.uint8)
    else:
        pixels = np.full(shape, 200, np.uint8)
        pixels[shape[0] // 2, :] = pixels[:, shape[1] // 2] = 10
    try:
        assert preprocess(png_bytes(Image.fromarray(pixels)), PIXELS).shape == (28, 28)
    except InvalidImageError as exc:
        assert exc.code == "blank_image"
