"""Crafted images that are cheap to send and costly to decode, each sized by its arguments.

The benchmark feeds the full-size ones to app.imaging.preprocess; the tests use small versions.
Every picture is the same digit-like shape: a dark bar on a light background.
"""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import Iterator

import numpy as np
from PIL import Image

# In entropy-coded data a 0xFF byte is followed by 0x00 (stuffing) or a restart marker; any
# other byte after it (fill bytes 0xFF aside) starts the next marker segment.
_NEXT_MARKER = re.compile(rb"\xff+[^\x00\xd0-\xd7\xff]")


def bar(width: int, height: int, mode: str = "L") -> Image.Image:
    """A dark vertical bar, a third of the height, on a light background."""
    image = Image.new("L", (width, height), 255)
    image.paste(
        0, (width * 9 // 20, height // 3, max(width * 11 // 20, width // 2 + 1), height * 2 // 3)
    )
    return image.convert(mode)


def encode(image: Image.Image, image_format: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def jpeg_scans(data: bytes) -> Iterator[tuple[int, int]]:
    """(start, end) of each scan of a JPEG: its SOS segment and the entropy-coded data after it."""
    position = 2
    while data[position + 1] != 0xD9:  # EOI
        marker = data[position + 1]
        length = struct.unpack_from(">H", data, position + 2)[0]
        end = position + 2 + length
        if marker == 0xDA:  # SOS
            found = _NEXT_MARKER.search(data, end)
            assert found is not None, "a scan runs to the end of the file"
            yield position, found.start()
            end = found.start()
        position = end


def scan_bomb_jpeg(
    size: int = 4999, repeats: int = 5000, *, subsampling: int = 2, scan: int | None = None
) -> bytes:
    """A progressive JPEG with its smallest scan (or scan `scan`) sent `repeats` more times."""
    # Each copy, SOS segment and entropy-coded data, goes before EOI: libjpeg warns about it,
    # then decodes it over the whole image.
    image = bar(size, size, "RGB")
    data = encode(image, "JPEG", progressive=True, quality=75, subsampling=subsampling)
    scans = list(jpeg_scans(data))
    start, end = min(scans, key=lambda s: s[1] - s[0]) if scan is None else scans[scan]
    last = scans[-1][1]
    return data[:last] + data[start:end] * repeats + data[last:]


def jpeg_scan_count(data: bytes) -> int:
    return sum(1 for _ in jpeg_scans(data))


def segment_flood_jpeg(size: int = 64, segments: int = 2_000_000) -> bytes:
    """A small JPEG after `segments` empty COM segments, which Pillow parses one by one."""
    data = encode(bar(size, size), "JPEG")
    return data[:2] + b"\xff\xfe\x00\x02" * segments + data[2:]


def junk_jpeg(size: int = 64, junk: int = 8_000_000) -> bytes:
    """A small JPEG with `junk` zero bytes after its first segment: Pillow skips them one by one."""
    data = encode(bar(size, size), "JPEG")
    first_end = 4 + struct.unpack_from(">H", data, 4)[0]
    return data[:first_end] + bytes(junk) + data[first_end:]


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    crc = zlib.crc32(kind + payload)
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)


def _paeth_filtered(previous: np.ndarray, row: np.ndarray, step: int) -> bytes:
    """A row under PNG filter 4 (Paeth), the costliest to undo: filter byte, then residues."""
    left = np.concatenate([np.zeros(step, np.int16), row[:-step]])
    upper_left = np.concatenate([np.zeros(step, np.int16), previous[:-step]])
    guess = left + previous - upper_left
    near_left, near_up = np.abs(guess - left), np.abs(guess - previous)
    near_upper_left = np.abs(guess - upper_left)
    predictor = np.where(
        (near_left <= near_up) & (near_left <= near_upper_left),
        left,
        np.where(near_up <= near_upper_left, previous, upper_left),
    )
    return b"\x04" + ((row - predictor) % 256).astype(np.uint8).tobytes()


# Adam7: (first row, first column, row step, column step) of each pass.
_ADAM7 = [
    (0, 0, 8, 8),
    (0, 4, 8, 8),
    (4, 0, 8, 4),
    (0, 2, 4, 4),
    (2, 0, 4, 2),
    (0, 1, 2, 2),
    (1, 0, 2, 1),
]


def raw_png(
    width: int,
    height: int,
    *,
    bit_depth: int = 8,
    colour_type: int = 0,
    interlaced: bool = False,
    chunks_before: bytes = b"",
    idat_bytes: int = 1 << 16,
) -> bytes:
    """A PNG of the bar in colour type 0, 2, 3 (palette), 4 or 6 and bit depth 8 or 16."""
    # Paeth-filtered, the costliest filter to undo, and deflated at level 9: 25 megapixels of
    # 16-bit RGBA fit in 200 KB.
    channels = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}[colour_type]
    pixel_bytes = channels * bit_depth // 8
    alpha_bytes = bit_depth // 8 if channels in (2, 4) else 0
    light = np.full((width, pixel_bytes), 255, np.int16)
    dark = light.copy()
    # The bar: colour bytes 0 (palette index 0), alpha left opaque.
    dark[width * 9 // 20 : max(width * 11 // 20, width // 2 + 1), : pixel_bytes - alpha_bytes] = 0
    top = height // 3
    bottom = max(height * 2 // 3, top + 1)
    compressor, compressed = zlib.compressobj(9), []
    for first_row, first_column, row_step, column_step in _ADAM7 if interlaced else [(0, 0, 1, 1)]:
        columns = slice(first_column, None, column_step)
        rows = range(first_row, height, row_step)
        if not len(light[columns]) or not rows:
            continue
        above = len(range(first_row, top, row_step))
        inside = len(range(first_row, bottom, row_step)) - above
        runs = [(light, above), (dark, inside), (light, len(rows) - above - inside)]
        previous = np.zeros(light[columns].size, np.int16)
        for pattern, count in runs:
            if count == 0:
                continue
            row = pattern[columns].ravel()
            first = _paeth_filtered(previous, row, pixel_bytes)
            same = _paeth_filtered(row, row, pixel_bytes)
            compressed.append(compressor.compress(first))
            # Identical rows in batches: one bytes object of all of them would not fit in memory.
            batch = max(1, (1 << 24) // len(same))
            for done in range(0, count - 1, batch):
                compressed.append(compressor.compress(same * min(batch, count - 1 - done)))
            previous = row
    stream = b"".join(compressed) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, int(interlaced))
    if colour_type == 3:  # index 255 is a transparent background, index 0 an opaque black
        palette = b"".join(bytes((v, v, v)) for v in range(256))
        chunks_before = (
            png_chunk(b"PLTE", palette)
            + png_chunk(b"tRNS", b"\xff" * 255 + b"\x00")
            + chunks_before
        )
    idat = b"".join(
        png_chunk(b"IDAT", stream[i : i + idat_bytes]) for i in range(0, len(stream), idat_bytes)
    )
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + chunks_before
        + idat
        + png_chunk(b"IEND", b"")
    )


def chunk_flood_png(size: int = 64, chunks: int = 800_000) -> bytes:
    """A small PNG with `chunks` empty private chunks before its pixels."""
    return raw_png(size, size, chunks_before=png_chunk(b"prVt", b"") * chunks)


def icc_flood_png(size: int = 64, chunks: int = 9_000) -> bytes:
    """A small PNG with `chunks` iCCP chunks, each a 1 KB deflate stream of 1 MB of zeros."""
    # Just under Pillow's 1 MB cap on a decompressed iCCP or text chunk.
    profile = b"icc\x00\x00" + zlib.compress(bytes((1 << 20) - 1), 9)
    return raw_png(size, size, chunks_before=png_chunk(b"iCCP", profile) * chunks)


def rle_bmp(width: int, height: int, *, rle4: bool, padded: bool = False) -> bytes:
    """An RLE8 or RLE4 BMP of a bar in runs of 255 pixels or, `padded`, of one pixel a row."""
    # Pillow decodes RLE in Python: RLE4 runs pixel by pixel, and it pads a row that ends early
    # pixel by pixel too.
    rows, ink = [], 0x11 if rle4 else 1
    for y in range(height):
        dark = height // 3 <= y < height * 2 // 3
        row = bytearray()
        left = 1 if padded else width
        while left > 0:
            count = min(255, left)
            row += bytes((count, ink if dark else 0))
            left -= count
        rows.append(bytes(row) + b"\x00\x00")
    pixels = b"".join(rows) + b"\x00\x01"
    palette = b"".join(bytes((v, v, v, 0)) for v in (255, 0)) + bytes(4 * (14 if rle4 else 254))
    offset = 14 + 40 + len(palette)
    info = struct.pack(
        "<IiiHHIIiiII",
        40,
        width,
        height,
        1,
        4 if rle4 else 8,
        2 if rle4 else 1,
        len(pixels),
        2835,
        2835,
        16 if rle4 else 256,
        0,
    )
    head = b"BM" + struct.pack("<IHHI", offset + len(pixels), 0, 0, offset)
    return head + info + palette + pixels


def _gif_image_data_end(data: bytes) -> int:
    """Where the first image's data sub-blocks end (at their 0 terminator) in a GIF."""
    position = 13 + (3 << ((data[10] & 7) + 1) if data[10] & 0x80 else 0)
    while data[position] == 0x21:  # extensions: label, then sub-blocks
        position += 2
        while data[position]:
            position += data[position] + 1
        position += 1
    assert data[position] == 0x2C, "no image descriptor"
    flags = data[position + 9]
    position += 10 + (3 << ((flags & 7) + 1) if flags & 0x80 else 0) + 1  # + LZW code size
    while data[position]:
        position += data[position] + 1
    return position


def block_flood_gif(size: int = 64, blocks: int = 4_000_000) -> bytes:
    """A GIF whose image data goes on with `blocks` 1-byte sub-blocks, walked one by one."""
    # Pillow walks them in Python to count frames.
    data = encode(bar(size, size, "P"), "GIF")
    end = _gif_image_data_end(data)
    return data[:end] + b"\x01\x00" * blocks + data[end:]


def oversized_frame_gif(size: int = 5000) -> bytes:
    """A GIF whose screen is 1x1 pixels and whose frame is size x size: Pillow grows the image."""
    data = encode(bar(size, size, "P"), "GIF")
    return data[:6] + struct.pack("<HH", 1, 1) + data[10:]
