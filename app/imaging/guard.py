"""Cheap checks of an encoded image, before any pixel is decoded.

`probe` reads headers and the block structure of the file only, in time linear in its length,
and refuses what would make the decoders (libjpeg, zlib, libwebp, Pillow's Python parsers)
work or allocate far more than the pixel count suggests.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Callable

from app.errors import InvalidImageError, PayloadTooLargeError

# Longest side: JPEG and GIF cannot describe more; beyond, rows would cost Pillow more than
# pixels (a 1 x 25,000,000 PNG took 0.7 s and 200 MB in row pointers alone).
MAX_SIDE = 65535
# libjpeg decodes every scan over the whole image: a 42-byte scan costs 13 ms at 25 megapixels.
# libjpeg-turbo (and so Pillow) writes 6 scans (grey), 10 (YCbCr) or 18 (CMYK), mozjpeg's
# optimised progressions about as many; 32 keeps a crafted file under 0.5 s of scans.
MAX_JPEG_SCANS = 32
# A JPEG of several scans keeps every DCT coefficient (2 bytes each) until the last one.
MAX_JPEG_COEFFICIENT_BYTES = 160 * 1024 * 1024
# Pillow parses JPEG markers before the first scan in Python (2.5 million took 2.5 s); a real
# file has a dozen, or a few hundred with a large profile split into 64 KB pieces.
MAX_JPEG_MARKERS = 1024
# Pillow walks PNG chunks in Python (2.6 us each); libpng writes 8 KB data chunks, 1,280 for
# 10 MB. It inflates each iCCP, zTXt and iTXt chunk, up to 1 MB each (0.75 ms).
MAX_PNG_CHUNKS = 16384
MAX_PNG_COMPRESSED_CHUNKS = 16
# Pillow walks GIF data sub-blocks in Python to count frames; 10 MB in full 255-byte
# sub-blocks is 41,000 of them.
MAX_GIF_BLOCKS = 65536
# libwebp's decoder keeps two canvases and Pillow two more copies: 16 bytes a pixel.
MAX_WEBP_PIXELS = 12_500_000
MAX_WEBP_CHUNKS = 64

# In JPEG entropy-coded data, 0xFF is followed by 0x00 (stuffing) or a restart marker; any other
# byte after it but a fill byte 0xFF is the code of the next marker. (A literal first byte lets
# the regex engine skip to each 0xFF: 4 ms for 10 MB, 50 ms if they are half the bytes.)
_NEXT_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_MARKER = re.compile(rb"\xff{1,8}([^\x00\xff])")  # a few fill bytes, as libjpeg writes none
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2}  # Huffman baseline, extended, progressive: what browsers show
_JPEG_OTHER_FRAMES = {0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}

Size = tuple[int, int]


def _corrupt(what: str) -> InvalidImageError:
    return InvalidImageError(f"The image could not be decoded: {what}.")


def _too_many(count: int, what: str, limit: int) -> InvalidImageError:
    return InvalidImageError(f"The image has more than {limit} {what} ({count}); re-save it.")


def _animated() -> InvalidImageError:
    return InvalidImageError("Animated images are not supported: send one frame.")


def _jpeg_size(data: bytes) -> Size:
    size: Size | None = None
    scans = markers = coefficient_bytes = 0
    position = 2
    while True:
        marker = _JPEG_MARKER.match(data, position)
        if marker is None:
            raise _corrupt(f"no JPEG marker at byte {position}")
        code, position = marker[1][0], marker.end()
        markers += 1
        if markers > MAX_JPEG_MARKERS:
            raise _too_many(markers, "JPEG markers", MAX_JPEG_MARKERS)
        if code == 0xD9:  # end of image: what follows is never decoded
            break
        if code == 0x01 or 0xD0 <= code <= 0xD8:  # markers without a segment
            continue
        (length,) = struct.unpack_from(">H", data, position)
        if code in _JPEG_OTHER_FRAMES:
            raise InvalidImageError(
                "Lossless, hierarchical and arithmetic-coded JPEGs are not "
                "supported: send a baseline or progressive JPEG."
            )
        if code in _JPEG_FRAMES:
            if size is not None:
                raise _corrupt("more than one JPEG frame")
            height, width, components = struct.unpack_from(">HHB", data, position + 3)
            size = width, height
            coefficient_bytes = _coefficient_bytes(data, position + 8, components, width, height)
        position += length
        if code == 0xDA:  # start of scan: its entropy-coded data runs to the next marker
            scans += 1
            if scans > MAX_JPEG_SCANS:
                raise _too_many(scans, "JPEG scans", MAX_JPEG_SCANS)
            found = _NEXT_JPEG_MARKER.search(data, position)
            if found is None:  # no end of image: libjpeg stops at the end of the data
                break
            position = found.start()
    if size is None:
        raise _corrupt("no JPEG frame header")
    if scans > 1 and coefficient_bytes > MAX_JPEG_COEFFICIENT_BYTES:
        raise PayloadTooLargeError(
            f"This {size[0]}x{size[1]} JPEG of several scans needs {coefficient_bytes >> 20} MB "
            "to decode; send it as a baseline JPEG or smaller."
        )
    return size


def _coefficient_bytes(data: bytes, offset: int, components: int, width: int, height: int) -> int:
    """What libjpeg holds for a whole image of DCT coefficients: 2 bytes each, 64 a block."""
    sampling = data[offset + 1 : offset + 3 * components : 3]
    if len(sampling) != components or not components:
        raise _corrupt("a truncated JPEG frame header")
    most_h = max(factor >> 4 for factor in sampling) or 1
    most_v = max(factor & 15 for factor in sampling) or 1
    total = 0
    for factor in sampling:
        blocks_wide = -(-width * (factor >> 4) // (8 * most_h))
        blocks_high = -(-height * (factor & 15) // (8 * most_v))
        total += blocks_wide * blocks_high * 128
    return total


def _png_size(data: bytes) -> Size:
    if data[12:16] != b"IHDR":
        raise _corrupt("no PNG header")
    width, height = struct.unpack_from(">II", data, 16)
    position, chunks, compressed = 8, 0, 0
    while position + 8 <= len(data):
        length, kind = struct.unpack_from(">I4s", data, position)
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise _too_many(chunks, "PNG chunks", MAX_PNG_CHUNKS)
        if kind in (b"iCCP", b"zTXt", b"iTXt"):
            compressed += 1
            if compressed > MAX_PNG_COMPRESSED_CHUNKS:
                raise _too_many(
                    compressed,
                    "compressed PNG chunks (iCCP, zTXt, iTXt)",
                    MAX_PNG_COMPRESSED_CHUNKS,
                )
        elif kind == b"acTL" and struct.unpack_from(">I", data, position + 8)[0] > 1:
            raise _animated()
        elif kind == b"IEND":
            break
        position += 12 + length
    return width, height


def _gif_size(data: bytes) -> Size:
    width, height, flags = struct.unpack_from("<HHB", data, 6)
    position, frames, blocks = 13 + _gif_palette_bytes(flags), 0, 0
    # Stop at the trailer or, like Pillow, at the end of the data.
    while position < len(data) and data[position] != 0x3B:
        if data[position] == 0x21:  # extension: label, then sub-blocks
            position += 2
        elif data[position] == 0x2C:  # image: descriptor, palette, LZW code size, sub-blocks
            frames += 1
            if frames > 1:
                raise _animated()
            left, top, frame_width, frame_height, flags = struct.unpack_from(
                "<HHHHB", data, position + 1
            )
            # Pillow grows the canvas to a frame that overflows it.
            width, height = max(width, left + frame_width), max(height, top + frame_height)
            position += 11 + _gif_palette_bytes(flags)
        else:
            raise _corrupt(f"an unknown GIF block at byte {position}")
        while position < len(data) and data[position]:
            position += data[position] + 1
            blocks += 1
            if blocks > MAX_GIF_BLOCKS:
                raise _too_many(blocks, "GIF data blocks", MAX_GIF_BLOCKS)
        position += 1
    return width, height


def _gif_palette_bytes(flags: int) -> int:
    return 3 << ((flags & 7) + 1) if flags & 0x80 else 0


def _bmp_size(data: bytes) -> Size:
    (header_bytes,) = struct.unpack_from("<I", data, 14)
    if header_bytes == 12:  # OS/2 1.x: 16-bit sizes, never compressed
        width, height = struct.unpack_from("<HH", data, 18)
        return width, height
    width, height, _, _, compression = struct.unpack_from("<iiHHI", data, 18)
    height = abs(height)  # negative: rows stored top to bottom
    if compression in (1, 2):
        # Pillow decodes them in Python, at up to 150 ns a pixel (5 times PNG's worst), so a
        # request's pixel budget would not bound its time.
        raise InvalidImageError("Run-length encoded BMPs are not supported: send a PNG.")
    return width, height


def _webp_size(data: bytes) -> Size:
    kind = data[12:16]
    if kind == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":  # lossy: 14-bit sizes
        width, height = struct.unpack_from("<HH", data, 26)
        size = width & 0x3FFF, height & 0x3FFF
    elif kind == b"VP8L" and data[20] == 0x2F:  # lossless: 14-bit sizes minus one
        (bits,) = struct.unpack_from("<I", data, 21)
        size = (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    elif kind == b"VP8X":  # extended: 24-bit canvas sizes minus one, then chunks
        size = int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
        position, chunks, frames = 12, 0, 0
        while position + 8 <= len(data):
            kind, length = struct.unpack_from("<4sI", data, position)
            chunks, frames = chunks + 1, frames + (kind == b"ANMF")
            if frames > 1:
                raise _animated()
            if chunks > MAX_WEBP_CHUNKS:
                raise _too_many(chunks, "WebP chunks", MAX_WEBP_CHUNKS)
            position += 8 + length + (length & 1)
    else:
        raise _corrupt("no WebP header")
    if size[0] * size[1] > MAX_WEBP_PIXELS:
        raise PayloadTooLargeError(
            f"The WebP image is {size[0]}x{size[1]} pixels; decoding WebP takes 16 bytes a "
            f"pixel, so at most {MAX_WEBP_PIXELS} are accepted: send a PNG or JPEG."
        )
    return size


# Each format by the bytes its files start with.
_READERS: list[tuple[Callable[[bytes], bool], Callable[[bytes], Size]]] = [
    (lambda data: data.startswith(b"\xff\xd8\xff"), _jpeg_size),
    (lambda data: data.startswith(b"\x89PNG\r\n\x1a\n"), _png_size),
    (lambda data: data[:6] in (b"GIF87a", b"GIF89a"), _gif_size),
    (lambda data: data.startswith(b"BM"), _bmp_size),
    (lambda data: data[:4] == b"RIFF" and data[8:12] == b"WEBP", _webp_size),
]


def probe(data: bytes, max_pixels: int) -> int:
    """Width x height of a still PNG, JPEG, GIF, BMP or WebP image that is cheap to decode."""
    if not data:
        raise InvalidImageError("The image is empty (0 bytes).")
    reader = next((read for accepts, read in _READERS if accepts(data)), None)
    if reader is None:
        raise InvalidImageError("The data is not a decodable PNG, JPEG, GIF, BMP or WebP image.")
    try:
        width, height = reader(data)
    except (struct.error, IndexError) as exc:
        raise _corrupt("the file is truncated") from exc
    if width < 1 or height < 1:
        raise InvalidImageError("The image has no pixels.")
    if width * height > max_pixels:
        raise PayloadTooLargeError(
            f"The image is {width}x{height} pixels; at most {max_pixels} are accepted."
        )
    if max(width, height) > MAX_SIDE:
        raise PayloadTooLargeError(
            f"The image is {width}x{height} pixels; no side may be longer than {MAX_SIDE}."
        )
    return width * height
