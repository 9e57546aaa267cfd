"""The benchmark's pure parts: requests, floors, payloads, memory reader, targets and table."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bench import hostile, proctree, scenarios
from bench.floor import create_app as create_floor_app
from bench.floor import create_raw_app
from bench.liveness import LivenessResult, percentile
from bench.load import COUNT_STATUSES, SCRIPT, LoadResult
from bench.memory import MemoryResult
from bench.report import Row, liveness_lines, memory_lines, table
from bench.rounds import Rounds
from bench.targets import Verdict, verdicts
from tests.helpers import make_client


def test_every_scenario_request_is_answered_200(quick_registry: Path, mnist_dir: Path) -> None:
    chosen = scenarios.build(mnist_dir)
    names = {scenario.name for scenario in chosen}
    with make_client(quick_registry) as client:
        for scenario in chosen:
            if scenario.server == "floor":
                continue
            request = scenario.request
            headers = {"content-type": request.content_type, **dict(request.headers)}
            response = client.post(request.path, content=request.body, headers=headers)
            assert response.status_code == 200, (scenario.name, response.text)
            if "inference-header-content-length" in response.headers:  # V2 binary outputs
                length = int(response.headers["inference-header-content-length"])
                assert len(response.content) > length
                continue
            document = response.json()
            assert document.get("predictions") or document.get("outputs"), scenario.name
            assert scenario.against is None or scenario.against in names


@pytest.mark.parametrize("factory", [create_floor_app, create_raw_app])
def test_both_floors_return_the_same_constant_for_a_json_body(
    factory: Callable[[], Any], mnist_dir: Path
) -> None:
    floor = next(s for s in scenarios.build(mnist_dir) if s.name == scenarios.FLOOR)
    with TestClient(factory()) as client:
        response = client.post(
            floor.request.path,
            content=floor.request.body,
            headers={"content-type": floor.request.content_type},
        )
    assert response.status_code == 200 and response.content == b'{"status":"ok"}'


def test_only_picks_scenarios_by_part_of_their_name() -> None:
    assert scenarios.chosen(scenarios.HOSTILE, None)
    assert scenarios.chosen(scenarios.HOSTILE, ["hostile"])
    assert not scenarios.chosen(scenarios.PEAK_MEMORY, ["hostile", "two cores"])


def test_wrk_script_counts_statuses_only_when_asked() -> None:
    fields = {"content_type": "image/png", "headers": "", "body_path": "/tmp/body"}
    assert "response = function" not in SCRIPT % {**fields, "response": ""}
    assert "response = function" in SCRIPT % {**fields, "response": COUNT_STATUSES}


def _image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_full_size_worst_cases_fit_the_body_limit_and_claim_their_sizes() -> None:
    cases = {case.name: case.request for case in hostile.worst_cases()}
    assert all(len(request.body) <= hostile.MAX_BODY_BYTES for request in cases.values())
    rows = json.loads(cases["1024 rows of 784 numbers to mnist-knn"].body)["instances"]
    assert len(rows) == 1024 and {len(row) for row in rows} == {784}
    tall = _image(cases["1x25,000,000 PNG (raw body)"].body)
    assert tall.format == "PNG" and tall.size == (1, 25_000_000)
    webps = cases["4 lossless 25-MP WebPs (multipart)"]
    assert webps.content_type.startswith("multipart/form-data")
    assert webps.body.count(b'name="file"') == 4
    row = json.loads(cases["row object with 300,000 unknown keys to iris-logistic-regression"].body)
    assert len(row["instances"][0]) == 300_000
    assert _image(hostile.bar_png()).size == (4000, 4000)


def test_small_images_decode_to_a_black_bar_on_white() -> None:
    for data, image_format in (
        (hostile.bar_png(40, 30), "PNG"),
        (hostile.bar_webp(40, 30), "WEBP"),
    ):
        image = _image(data)
        assert image.format == image_format and image.size == (40, 30)
        grey = image.convert("L")
        assert grey.getpixel((0, 0)) == 255 and grey.getpixel((20, 15)) == 0


def test_small_worst_cases_are_well_formed_requests(quick_registry: Path) -> None:
    with make_client(quick_registry) as client:
        for case in hostile.worst_cases(scale=0.001):
            request = case.request
            response = client.post(
                request.path, content=request.body, headers={"content-type": request.content_type}
            )
            # Refused or answered, never a crash nor a malformed request the server cannot parse.
            assert response.status_code in (200, 413, 422), (case.name, response.text)


def test_process_tree_memory_counts_children_and_keeps_the_peak_of_one_that_exited() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in proctree.tree(os.getpid())
        peak = proctree.PeakMemory(os.getpid())
        peak.poll()
        own = proctree.status_kb(os.getpid(), "VmHWM")
        assert own is not None and child.pid in peak.peaks_kb
        assert peak.total_mb * 1024 > own
        assert proctree.rss_mb(os.getpid()) > 0
    finally:
        child.kill()
        child.wait()
    before = peak.total_mb
    peak.poll()
    assert peak.total_mb >= before and proctree.status_kb(child.pid, "VmHWM") is None


def test_percentile_is_the_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50 and percentile(values, 99) == 99
    assert percentile([3.0], 99) == 3.0


def _result(rps: float, p99: float = 10.0) -> LoadResult:
    return LoadResult(rps, p99 / 2, p99, requests=int(rps), errors=0)


def _row(name: str, raw_ratio: float = 0.4, versus: float | None = None) -> Row:
    return Row(
        name,
        16,
        _result(1000),
        rps_ratio=raw_ratio * 2.5,
        p99_ratio=1.5,
        raw_rps_ratio=raw_ratio,
        raw_p99_ratio=2.0,
        versus="one core" if versus is not None else None,
        rps_versus=versus,
        p99_versus=0.9 if versus is not None else None,
    )


def _liveness(p99_ms: float, failed: int = 0) -> LivenessResult:
    return LivenessResult(500, failed, 2.0, p99_ms, 30.0, 9, 8, 3.5, {"200": 30, "413": 2}, 0)


def _memory(peak_mb: float) -> MemoryResult:
    return MemoryResult(peak_mb, 3, 8, 3, 3, 12.5, {"16-MP PNG (multipart)": {"200": 5}})


def _met(found: list[Verdict], words: str) -> bool:
    return next(v.met for v in found if words in v.target)


def test_verdicts_check_each_target_of_the_issue_at_its_threshold() -> None:
    rows = [
        _row("iris-logistic-regression, 1 row", 0.35),
        _row(scenarios.TWO_CORES, versus=1.7),
        _row(scenarios.IRIS_V2, versus=0.9),
        _row(scenarios.BATCH_BINARY, versus=1.0),
    ]
    found = verdicts(rows, 2.9, 400, _liveness(20.0), _memory(1024))
    assert all(v.met for v in found)
    assert not any(v.earlier for v in found[:7]) and found[-1].earlier
    rows = [
        _row("iris-logistic-regression, 1 row", 0.34),
        _row(scenarios.TWO_CORES, versus=1.69),
        _row(scenarios.IRIS_V2, versus=0.89),
        _row(scenarios.BATCH_BINARY, versus=0.99),
    ]
    found = verdicts(rows, 3.1, 400, _liveness(20.1), _memory(1025))
    for words in (
        "raw ASGI",
        "two cores",
        "/health/live",
        "peak RSS",
        "cold start",
        "over V2 JSON",
        "over V2 binary",
    ):
        assert not _met(found, words), words
    assert not _met(verdicts([], 1, 1, _liveness(5.0, failed=1)), "/health/live")


def test_verdicts_leave_out_targets_without_figures() -> None:
    targets = [v.target for v in verdicts([], 1.0, 100)]
    assert len(targets) == 2 and "cold start" in targets[0]


def test_table_shows_both_floors_and_the_baseline_ratio() -> None:
    text = table([_row("iris-logistic-regression, 1 row"), _row(scenarios.TWO_CORES, versus=1.8)])
    lines = text.splitlines()
    assert "x FastAPI" in lines[0] and "x raw ASGI" in lines[0]
    assert len({len(line) for line in lines}) == 1  # aligned
    iris = [cell.strip() for cell in lines[2].split("|")]
    assert iris[4:6] == ["1.00", "0.40"] and iris[9] == ""
    assert "| 1.80 x one core, p99 0.90 x |" in lines[3]


def test_floor_rows_give_each_floor_as_a_multiple_of_the_other() -> None:
    rounds = Rounds(None, None, None, 2, 1.0, None)  # type: ignore[arg-type]
    rounds.floors[16] = [(_result(4000), _result(10000)), (_result(5000), _result(12500))]
    fastapi, raw = rounds.floor_rows()
    assert fastapi.rps_ratio == 1 and fastapi.raw_rps_ratio == pytest.approx(0.4)
    assert raw.raw_rps_ratio == 1 and raw.rps_ratio == pytest.approx(2.5)
    assert rounds.drift() == {"fastapi": {16: [4000, 5000]}, "raw_asgi": {16: [10000, 12500]}}


def test_hostile_and_memory_lines_carry_the_figures() -> None:
    text = "\n".join(liveness_lines(_liveness(12.34)) + memory_lines(_memory(777)))
    assert "p99 12.3 ms" in text and "30 x 200, 2 x 413" in text
    assert "777 MiB" in text and "16-MP PNG (multipart): 5 x 200" in text
