"""Read the IDX format MNIST is distributed in (optionally gzip-compressed)."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import numpy.typing as npt

# Magic number: two zero bytes, a type code (0x08 = unsigned byte), then the number of dimensions.
UNSIGNED_BYTE = 0x08


class IdxFormatError(ValueError):
    """The file is not a well-formed IDX file of unsigned bytes."""


def read_idx(path: Path, expected_dims: int) -> npt.NDArray[np.uint8]:
    """Return the array stored in an IDX file, checking its header against its length."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            data = handle.read()
    except (OSError, EOFError) as exc:  # gzip raises these on a truncated or corrupt stream
        raise IdxFormatError(f"{path}: cannot read: {exc}") from exc
    if len(data) < 4:
        raise IdxFormatError(f"{path}: too short to hold an IDX header ({len(data)} bytes)")
    zero, type_code, dims = struct.unpack(">HBB", data[:4])
    if zero != 0 or type_code != UNSIGNED_BYTE or dims != expected_dims:
        raise IdxFormatError(
            f"{path}: wrong magic number 0x{data[:4].hex()}, expected "
            f"0x{UNSIGNED_BYTE:04x}{expected_dims:02x} (unsigned bytes, {expected_dims} dimensions)"
        )
    header_bytes = 4 + 4 * dims
    if len(data) < header_bytes:
        raise IdxFormatError(f"{path}: truncated header")
    shape = struct.unpack(f">{dims}I", data[4:header_bytes])
    expected = int(np.prod(shape))
    body = len(data) - header_bytes
    if body != expected:
        raise IdxFormatError(
            f"{path}: header promises {expected} bytes of data for shape {shape}, file holds {body}"
        )
    return np.frombuffer(data, np.uint8, offset=header_bytes).reshape(shape)
