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

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from bench import hostile, proctree, scenarios
from bench.floor import create_app as create_floor_app
from bench.floor import create_raw_app
from bench.liveness import LivenessResult, percentile
from bench.load import COUNT_STATUSES, SCRIPT, LoadResult
from bench.memory import MemoryResult
from bench.peers import dialects, environments
from bench.peers import model as peers_model
from bench.peers import report as peers_report
from bench.peers.measure import Contender
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


def test_peers_customers_have_twenty_mixed_columns_with_gaps() -> None:
    features, target = peers_model.customers(500)
    kinds = features.dtypes.map(lambda dtype: dtype.kind).value_counts().to_dict()
    assert list(features.columns) == list(peers_model.COLUMNS) and len(features.columns) == 20
    assert kinds == {"f": 8, "i": 5, "O": 7}
    assert all(features[name].isna().any() for name in peers_model.WITH_GAPS)
    assert not features.drop(columns=list(peers_model.WITH_GAPS)).isna().any().any()
    assert set(target) == {"yes", "no"}
    again, _ = peers_model.customers(500)
    pd.testing.assert_frame_equal(features, again)  # a fixed seed


def _three_rows() -> pd.DataFrame:
    features, _ = peers_model.customers(3)
    features.loc[1, "age"] = np.nan
    return features


def test_peer_request_forms_carry_the_same_rows_gaps_as_null_or_empty() -> None:
    frame = _three_rows()
    native = json.loads(dialects.native("customers").rows(frame).body)["instances"]
    assert native[1]["age"] is None and native[0]["products"] == frame["products"][0]
    split = json.loads(dialects.mlflow().rows(frame).body)["dataframe_split"]
    assert split["columns"] == list(frame.columns)
    assert [dict(zip(split["columns"], row, strict=True)) for row in split["data"]] == native
    v2 = json.loads(dialects.mlserver("customers").rows(frame).body)
    assert v2["parameters"] == {"content_type": "pd"}
    inputs = {tensor["name"]: tensor for tensor in v2["inputs"]}
    assert inputs["age"]["datatype"] == "FP64" and inputs["age"]["data"][1] is None
    assert inputs["products"]["datatype"] == "INT64" and inputs["products"]["shape"] == [3]
    assert inputs["plan"]["datatype"] == "BYTES"
    assert inputs["plan"]["parameters"] == {"content_type": "str"}
    assert inputs["plan"]["data"] == frame["plan"].tolist()
    csv = dialects.native("customers").big(frame)
    assert csv.content_type == "text/csv" and ("Accept", "text/csv") in csv.headers
    assert csv.body.splitlines()[2].startswith(b",")  # the gap: an empty cell
    assert dialects.mlflow().big(frame).body == csv.body


def test_peer_answers_are_read_as_labels_and_compared_row_by_row() -> None:
    ours = dialects.native("m").labels(b'{"predictions":[{"label":"no"},{"label":"yes"}]}')
    mlserver = dialects.mlserver("m").labels(b'{"outputs":[{"name":"predict","data":["no","no"]}]}')
    mlflow = dialects.mlflow().labels(b'{"predictions": ["no", "yes"]}')
    assert ours == mlflow == ["no", "yes"]
    assert dialects.disagreements(ours, mlserver) == [1]
    assert dialects.disagreements(ours, mlflow) == []
    assert dialects.disagreements(ours, ["no"]) == [0, 1]


def test_our_server_answers_the_peers_benchmark_requests_as_the_pipeline(
    tmp_path: Path,
) -> None:
    from training import publish

    pipeline = peers_model.pipeline(rows=400, iterations=5)
    features, _ = peers_model.customers(50, seed=1)
    publish(pipeline, name="customers", example=features.head(5), registry_dir=tmp_path)
    native = dialects.native("customers")
    answers = []
    with make_client(tmp_path) as client:
        for request in (native.rows(features), native.big(features)):
            headers = {"content-type": request.content_type, **dict(request.headers)}
            response = client.post(request.path, content=request.body, headers=headers)
            assert response.status_code == 200, response.text
            answers.append(response.content)
    labels = native.labels(answers[0])
    assert labels == pipeline.predict(features).tolist()
    assert answers[1].decode().splitlines() == [
        "label,class_index",
        *(f"{label},{['no', 'yes'].index(label)}" for label in labels),
    ]


def test_peer_requirements_pin_our_libraries_and_mlservers_uvloop() -> None:
    from importlib.metadata import version

    mlserver, mlflow = (environments.requirements(p) for p in environments.PEERS)
    for packages in (mlserver, mlflow):
        assert f"scikit-learn=={version('scikit-learn')}" in packages
        assert f"joblib=={version('joblib')}" in packages
    assert "uvloop==0.21.0" in mlserver and "mlserver-sklearn==1.7.1" in mlserver
    assert "mlflow-skinny==3.18.0" in mlflow and any(p.startswith("skops") for p in mlflow)
    assert not any(p.startswith("skops") for p in mlserver)


def _contender(key: str, rps: float, batch_rps: float, big_seconds: float) -> Contender:
    contender = Contender(key, key.title(), "CSV")
    contender.one_row = [_result(rps), _result(rps * 1.1)]
    contender.batch = [_result(batch_rps), _result(batch_rps)]
    contender.big_seconds = [big_seconds, big_seconds]
    contender.differing = [] if key != "ours" else None
    return contender


def test_peer_table_ratios_and_targets() -> None:
    ours = _contender("ours", 2000, 60, 1.0)
    mlserver = _contender("mlserver", 100, 30, 5.0)
    mlflow = _contender("mlflow", 80, 28, 1.5)
    mlflow.differing = [7]
    mlflow.batch[0] = LoadResult(28, 14.0, 28.0, requests=28, errors=3)
    missing = Contender("other", "Other", "CSV", unavailable="pip install failed: no wheel")
    text = peers_report.table([ours, mlserver, mlflow, missing])
    lines = text.splitlines()
    assert lines[0].startswith("| server | one row, c16: req/s")
    assert lines[2].startswith("| Ours | 2,100 |")
    assert "| 30,000 | 20,000 | CSV | 1000/1000 |" in lines[3]
    assert lines[4].startswith("| Mlflow (3 errors) |") and "| 999/1000 |" in lines[4]
    assert "not run: pip install failed: no wheel" in lines[5]
    assert {line.count("|") for line in lines} == {9}
    assert peers_report.ratios(ours, mlserver) == pytest.approx(
        {"one_row": 20.0, "batch": 2.0, "big": 5.0}
    )
    found = peers_report.verdicts(ours, [mlserver, mlflow, missing])
    assert [v.met for v in found] == [True, True, True, False]
    assert "MLflow" not in found[2].target and found[3].measured == "1.50 x"
    lines = peers_report.ratio_lines(ours, [mlserver, mlflow, missing])
    assert len(lines) == 2 and "(target >= 20: met)" in lines[0]
