"""Find, fetch and load the four MNIST files."""

from __future__ import annotations

import hashlib
import logging
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from training.datasets.idx import read_idx

logger = logging.getLogger(__name__)

ENV_VAR = "MNIST_DIR"
DEFAULT_DIR = Path("data/mnist")
MIRROR = "https://storage.googleapis.com/cvdf-datasets/mnist/"
FILES = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}


class MnistNotFoundError(RuntimeError):
    """No usable copy of MNIST was found or could be downloaded."""


@dataclass(frozen=True)
class Mnist:
    """Images as (n, 28, 28) uint8, 0 = background, 255 = ink; labels as uint8 digits."""

    train_images: npt.NDArray[np.uint8]
    train_labels: npt.NDArray[np.uint8]
    test_images: npt.NDArray[np.uint8]
    test_labels: npt.NDArray[np.uint8]


def _complete(folder: Path) -> bool:
    return all((folder / name).is_file() for name in FILES)


def download(folder: Path) -> None:
    """Fetch the four files from the public mirror, checking each SHA-256."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, sha256 in FILES.items():
        target = folder / name
        if target.is_file():
            continue
        logger.info("downloading %s", MIRROR + name)
        with urllib.request.urlopen(MIRROR + name, timeout=30) as response:  # noqa: S310
            payload = response.read()
        if hashlib.sha256(payload).hexdigest() != sha256:
            raise MnistNotFoundError(f"downloaded {name} does not match its SHA-256")
        partial = target.with_suffix(".part")
        partial.write_bytes(payload)
        partial.rename(target)


def locate(explicit: Path | None = None) -> Path:
    """The MNIST folder: the argument, then $MNIST_DIR, then data/mnist/, then a download."""
    configured = explicit or (Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else None)
    if configured is not None:
        if _complete(configured):
            return configured
        raise MnistNotFoundError(
            f"MNIST folder {configured} (from --mnist-dir or {ENV_VAR}) lacks some of: "
            + ", ".join(FILES)
        )
    if _complete(DEFAULT_DIR):
        return DEFAULT_DIR
    try:
        download(DEFAULT_DIR)
    except (OSError, MnistNotFoundError) as exc:
        raise MnistNotFoundError(
            f"MNIST not found: set {ENV_VAR} (or --mnist-dir) to a folder holding the four IDX "
            f".gz files, or put them in {DEFAULT_DIR}/; downloading them failed: {exc}"
        ) from exc
    return DEFAULT_DIR


def load(folder: Path, limit_train: int | None = None, limit_test: int | None = None) -> Mnist:
    """Read MNIST from `folder`; the limits take the first rows only (quick mode)."""
    return Mnist(
        train_images=read_idx(folder / "train-images-idx3-ubyte.gz", 3)[:limit_train],
        train_labels=read_idx(folder / "train-labels-idx1-ubyte.gz", 1)[:limit_train],
        test_images=read_idx(folder / "t10k-images-idx3-ubyte.gz", 3)[:limit_test],
        test_labels=read_idx(folder / "t10k-labels-idx1-ubyte.gz", 1)[:limit_test],
    )
