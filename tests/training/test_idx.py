from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest

from training.datasets.idx import IdxFormatError, read_idx


def _idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def test_reads_gzipped_images(tmp_path: Path) -> None:
    images = np.arange(2 * 28 * 28, dtype=np.uint32).reshape(2, 28, 28) % 256
    path = tmp_path / "images.gz"
    path.write_bytes(gzip.compress(_idx_bytes(images)))
    assert np.array_equal(read_idx(path, 3), images)


def test_truncated_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(_idx_bytes(np.arange(10))[:-3])
    with pytest.raises(IdxFormatError, match="header promises 10 bytes .* file holds 7"):
        read_idx(path, 1)


def test_truncated_gzip_stream_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(_idx_bytes(np.arange(1000) % 10))[:-20])
    with pytest.raises(IdxFormatError, match="cannot read"):
        read_idx(path, 1)


def test_wrong_magic_number_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "labels"
    path.write_bytes(_idx_bytes(np.arange(10)))
    with pytest.raises(IdxFormatError, match="wrong magic number 0x00000801"):
        read_idx(path, 3)  # a labels file where images were expected


def test_real_mnist_test_labels_read(mnist_dir: Path) -> None:
    labels = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", 1)
    assert labels.shape == (10000,)
    assert set(np.unique(labels)) == set(range(10))
