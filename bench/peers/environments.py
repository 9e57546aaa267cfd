"""A virtualenv per peer under build/peers/<name>/, installed with pip on first use and reused
while its requirements are unchanged. The libraries the model's file needs are pinned to the
versions of this environment, so the same joblib file loads in each."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

INSTALL_TIMEOUT_SECONDS = 1200
MARKER = "requirements.txt"  # written once the install succeeded
# What the pipeline's joblib file and the request decoding depend on: the same as ours.
SHARED = ("scikit-learn", "joblib", "numpy", "pandas", "scipy")
SKOPS = "skops==0.16.0"  # when this environment has none


class PeerUnavailableError(Exception):
    """A peer that could not be installed or started; the message says why."""


@dataclass(frozen=True)
class Peer:
    """A server to compare with: its name in the table and what it installs."""

    name: str
    title: str
    packages: tuple[str, ...]


MLSERVER = Peer(
    "mlserver",
    "MLServer 1.7.1 (mlserver-sklearn)",
    # MLServer 1.7.1's inference worker dies under uvloop 0.22-0.23 ("There is no current event
    # loop"): 0.21 is the last that works.
    ("mlserver==1.7.1", "mlserver-sklearn==1.7.1", "uvloop==0.21.0"),
)
MLFLOW = Peer("mlflow", "MLflow 3.18.0 (mlflow-skinny, models serve)", ("mlflow-skinny==3.18.0",))
PEERS = (MLSERVER, MLFLOW)


def pins() -> list[str]:
    """This environment's versions of the libraries every peer shares with it."""
    found = []
    for name in SHARED:
        try:
            found.append(f"{name}=={version(name)}")
        except PackageNotFoundError:
            found.append(name)
    try:
        found.append(f"skops=={version('skops')}")
    except PackageNotFoundError:
        found.append(SKOPS)
    return found


def requirements(peer: Peer) -> list[str]:
    """What pip installs for `peer`: its own packages, then the shared pins."""
    shared = pins()
    if peer is not MLFLOW:  # skops is MLflow's safe format; MLServer reads the joblib file
        shared = [line for line in shared if not line.startswith("skops")]
    return [*peer.packages, *shared]


def ensure(peer: Peer, root: Path, python: str) -> Path:
    """The peer's environment folder, created with `python -m venv` and pip when missing or
    when its requirements changed; PeerUnavailableError with pip's last words when it fails."""
    folder = root / peer.name
    wanted = "\n".join(requirements(peer)) + "\n"
    marker = folder / MARKER
    if marker.is_file() and marker.read_text() == wanted:
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    steps = (
        [python, "-m", "venv", str(folder)],
        [str(folder / "bin" / "python"), "-m", "pip", "install", "-q", *wanted.split()],
    )
    for command in steps:
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT_SECONDS
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PeerUnavailableError(f"{command[2]} failed: {exc}") from exc
        if done.returncode != 0:
            raise PeerUnavailableError(f"{' '.join(command[1:4])} failed: {last_words(done)}")
    marker.write_text(wanted)
    return folder


def last_words(done: subprocess.CompletedProcess[str]) -> str:
    """The last line of a failed command's output that is not one of pip's location warnings."""
    lines = [
        line.strip()
        for line in (done.stderr + done.stdout).splitlines()
        if line.strip() and not line.startswith("WARNING: Location")
    ]
    return lines[-1] if lines else f"exit status {done.returncode}"
