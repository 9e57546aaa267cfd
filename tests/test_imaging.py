"""Pictures to digits: probe refuses costly files from their headers, before any decoding."""

from __future__ import annotations

import io
import struct
from collections.abc import Callable

import pytest
from PIL import Image

from app.errors import InvalidImageError, PayloadTooLargeError
from app.imaging import preprocess, probe
from app.imaging_guard import (
    MAX_GIF_BLOCKS,
    MAX_JPEG_MARKERS,
    MAX_JPEG_SCANS,
    MAX_PNG_CHUNKS,
    MAX_PNG_COMPRESSED_CHUNKS,
    MAX_SIDE,
)
from bench import jpeg_bomb as bomb

PIXELS = 25_000_000


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
