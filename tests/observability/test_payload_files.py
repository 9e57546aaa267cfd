"""Segments are complete or absent after a crash: a real server killed (-9) while it writes
leaves whole `.jsonl` segments only, and the next start completes what it left `.partial` as far
as its last full line, except a segment another live process still holds."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import threading
from pathlib import Path

import httpx2 as httpx

from tests.helpers import IRIS_ROW, ServerProcess, make_client
from tests.observability.conftest import IRIS, until

ROW = {"instances": [IRIS_ROW]}


def _whole(path: Path) -> list[dict[str, object]]:
    """The records of a segment, which must end with a full line."""
    data = path.read_bytes()
    assert data.endswith(b"\n"), path
    return [json.loads(line) for line in data.splitlines()]


def test_a_server_killed_mid_segment_leaves_complete_segments(
    payload_models: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "payloads"
    server = ServerProcess(payload_models, payload_log=str(folder), payload_segment_bytes="4096")
    sent: list[str] = []
    stop = threading.Event()

    def hammer(prefix: str) -> None:
        with httpx.Client(base_url=server.base_url, timeout=5) as client:
            for count in range(1_000_000):
                if stop.is_set():
                    return
                identity = f"{prefix}{count}"
                try:
                    client.post(
                        f"/v1/models/{IRIS}/predict", json=ROW, headers={"X-Request-Id": identity}
                    )
                except httpx.TransportError:
                    return  # the server is gone
                sent.append(identity)

    try:
        server.wait_ready()
        clients = [threading.Thread(target=hammer, args=(p,)) for p in "ab"]
        for thread in clients:
            thread.start()
        until(lambda: len(list(folder.glob("*.jsonl"))) >= 3, seconds=30)
        os.kill(server.process.pid, signal.SIGKILL)
        stop.set()
        for thread in clients:
            thread.join(10)
    finally:
        stop.set()
        server.stop()
    closed = sorted(folder.glob("*.jsonl"))
    captured = [record["id"] for path in closed for record in _whole(path)]
    assert len(captured) >= 10 and set(captured) <= set(sent)
    left = list(folder.glob("*.jsonl.partial"))  # the segment it was writing, if one was open
    assert len(left) <= 1

    restarted = ServerProcess(payload_models, payload_log=str(folder))
    try:
        restarted.wait_ready()
        until(lambda: not any(path.exists() for path in left))
    finally:
        restarted.stop()
    assert not list(folder.glob("*.partial"))
    for path in left:
        recovered = path.with_name(path.name.removesuffix(".partial"))
        if recovered.exists():  # else it held no full line, and was removed
            captured += [record["id"] for record in _whole(recovered)]
    assert set(captured) <= set(sent) and len(set(captured)) == len(captured)


def test_a_leftover_segment_is_completed_as_far_as_its_last_full_line(
    payload_models: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "payloads"
    folder.mkdir()
    torn = folder / "20260101T000000000000Z-1-0001.jsonl.partial"
    torn.write_bytes(b'{"id": "a"}\n{"id": "b"}\n{"id": "c", "inp')
    empty = folder / "20260101T000000000000Z-1-0002.jsonl.partial"
    empty.write_bytes(b'{"id": "d", "no newline"')
    held = folder / "20260101T000000000000Z-2-0001.jsonl.partial"
    held.write_bytes(b'{"id": "e"}\n{"id": "f", "being written')
    with held.open("rb+") as other_process:
        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as a live worker holds it
        with make_client(payload_models, payload_log=str(folder)) as client:
            until(lambda: not torn.exists())
            client.post(f"/v1/models/{IRIS}/predict", json=ROW, headers={"X-Request-Id": "g"})
    assert _whole(folder / "20260101T000000000000Z-1-0001.jsonl") == [{"id": "a"}, {"id": "b"}]
    assert not empty.exists() and not list(folder.glob("*-1-0002*"))
    assert held.read_bytes() == b'{"id": "e"}\n{"id": "f", "being written'  # left to its owner
    kept = [record["id"] for path in sorted(folder.glob("*.jsonl")) for record in _whole(path)]
    assert kept == ["a", "b", "g"]
