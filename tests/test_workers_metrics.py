"""SERVING_WORKERS=2: a real two-worker server, whose /metrics sums both workers' counts."""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2 as httpx
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.helpers import IRIS_ROW, ServerProcess

PREDICTS = re.compile(
    r'^serving_requests_total\{[^}]*endpoint="/v1/models/\{name\}/predict"[^}]*status="200"'
    r"[^}]*\} (\S+)$",
    re.MULTILINE,
)


def predicts_counted(exposition: str) -> float:
    """The 200 answers to the native predict route in a Prometheus exposition."""
    return sum(float(count) for count in PREDICTS.findall(exposition))


def per_worker(metrics_dir: Path, scratch: Path) -> dict[str, float]:
    """Each worker's own predict count, from its files alone (one folder per process id)."""
    counts = {}
    for counter_file in metrics_dir.glob("counter_*.db"):
        pid = counter_file.stem.removeprefix("counter_")
        alone = scratch / pid
        alone.mkdir(parents=True)
        shutil.copy(counter_file, alone)
        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(alone))
        counts[pid] = predicts_counted(generate_latest(registry).decode())
    return counts


def send_predicts(base_url: str, count: int) -> None:
    """`count` predict requests from 8 threads, each on a new connection (so on either worker)."""

    def one(_: int) -> int:
        return httpx.post(
            f"{base_url}/v1/models/iris-svm/predict", json={"instances": [IRIS_ROW]}
        ).status_code

    with ThreadPoolExecutor(8) as pool:
        assert set(pool.map(one, range(count))) == {200}


def test_metrics_sum_the_counts_of_both_workers(iris_registry: Path, tmp_path: Path) -> None:
    metrics_dir = tmp_path / "metrics"
    server = ServerProcess(
        iris_registry,
        environment={"PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)},
        workers="2",
        compute_workers="1",
    )
    try:
        server.wait_ready()
        sent = 0
        # The kernel hands each new connection to whichever worker accepts first: send until
        # both have answered some (a few rounds at most).
        for round_number in range(10):
            send_predicts(server.base_url, 100)
            sent += 100
            workers = per_worker(metrics_dir, tmp_path / f"round-{round_number}")
            if len([count for count in workers.values() if count > 0]) == 2:
                break
        assert len(workers) == 2, workers
        assert all(count > 0 for count in workers.values()), workers
        assert sum(workers.values()) == sent
        for _ in range(4):  # whichever worker answers the scrape, it counts all of them
            scraped = httpx.get(f"{server.base_url}/metrics").text
            assert predicts_counted(scraped) == sent
            assert "serving_models_loaded 6.0" in scraped
    finally:
        server.stop()


def test_two_workers_share_a_temporary_metrics_folder_removed_at_exit(
    iris_registry: Path,
) -> None:
    server = ServerProcess(iris_registry, workers="2", compute_workers="1")
    try:
        server.wait_ready()
        children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children")
        environs = [
            Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            for pid in children.read_text().split()
        ]
        folders = {
            entry.split(b"=", 1)[1].decode()
            for environ in environs
            for entry in environ
            if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR=")
        }
        assert len(folders) == 1, folders
        folder = Path(folders.pop())
        send_predicts(server.base_url, 50)
        assert predicts_counted(httpx.get(f"{server.base_url}/metrics").text) == 50
        assert list(folder.glob("counter_*.db"))
    finally:
        server.stop()
    assert not folder.exists()
