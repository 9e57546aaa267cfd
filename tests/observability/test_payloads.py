"""Payload capture to a folder, through the app: what a record holds, sampling, the routes a
request took, images, rotation under a total bound, and a folder that cannot be written."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from tests.helpers import IRIS_ROW, make_client, png_bytes
from tests.observability.conftest import DIGITS, IRIS, records, until
from tests.tabular_models import REGRESSOR_COLUMNS, churn_frame
from tests.tabular_models import records as churn_records
from training import labels


def _post(client: Any, path: str, body: Any, request_id: str | None = None) -> Any:
    headers = {"X-Request-Id": request_id} if request_id else {}
    response = client.post(path, json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response


def _metric(client: Any, name: str) -> float:
    """The sum of a metric's samples in /metrics (0 when it has none)."""
    total = 0.0
    for line in client.get("/metrics").text.splitlines():
        if line.startswith(name):
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_records_hold_the_request_id_inputs_by_column_and_outputs(
    payload_models: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "payloads"
    rows = churn_records(churn_frame(6, seed=5))
    assert any(row["age"] is None for row in rows)  # a gap, written as null
    with make_client(payload_models, payload_log=str(folder)) as client:
        churn = _post(client, "/v1/models/churn/predict", {"instances": rows}, "churn-1").json()
        spending = [{name: row[name] for name in REGRESSOR_COLUMNS} for row in rows[:2]]
        spend = _post(client, "/v1/models/spend/predict", {"instances": spending}, "spend-1").json()
        iris = _post(client, f"/v1/models/{IRIS}/versions/1/predict", {"instances": [IRIS_ROW]})
    first, second, third = records(folder)

    assert first["id"] == "churn-1" and first["model"] == "churn" and first["version"] == 1
    assert first["route"] == "latest" and first["shadow_version"] is None and first["rows"] == 6
    assert first["inputs"] == {name: [row[name] for row in rows] for name in rows[0]}
    predictions = churn["predictions"]
    assert first["outputs"]["label"] == [p["label"] for p in predictions]
    for label, column in first["outputs"]["probabilities"].items():
        expected = [p["probabilities"][label] for p in predictions]
        np.testing.assert_allclose(column, expected, atol=1e-6)
    assert first["latency_ms"] > 0 and first["time"].endswith("Z")

    assert second["id"] == "spend-1" and second["model"] == "spend"
    assert second["inputs"] == {name: [row[name] for row in spending] for name in spending[0]}
    np.testing.assert_allclose(
        second["outputs"]["value"], [p["value"] for p in spend["predictions"]], rtol=1e-6
    )

    assert third["id"] == iris.headers["x-request-id"]  # made by the server
    assert third["route"] == "pinned"
    assert list(third["inputs"].values()) == [[value] for value in IRIS_ROW]
    assert third["outputs"]["label"] == [iris.json()["predictions"][0]["label"]]


def test_no_headers_or_tokens_are_captured(payload_models: Path, tmp_path: Path) -> None:
    folder = tmp_path / "payloads"
    token = "s3cret-token-value"
    with make_client(payload_models, payload_log=str(folder), api_token=token) as client:
        response = client.post(
            f"/v1/models/{IRIS}/predict",
            json={"instances": [IRIS_ROW]},
            headers={"Authorization": f"Bearer {token}", "X-Secret": "hidden-header-value"},
        )
        assert response.status_code == 200
    text = b"".join(path.read_bytes() for path in folder.glob("*.jsonl"))
    assert text.count(b"\n") == 1
    assert token.encode() not in text and b"hidden-header-value" not in text


def test_sampling_zero_captures_nothing_and_a_half_about_half(
    payload_models: Path, tmp_path: Path
) -> None:
    nothing, half = tmp_path / "nothing", tmp_path / "half"
    with make_client(payload_models, payload_log=str(nothing), payload_sample=0) as client:
        for _ in range(20):
            _post(client, f"/v1/models/{IRIS}/predict", {"instances": [IRIS_ROW]})
        assert "payloads" not in client.get("/health/ready").json()
    assert records(nothing) == []
    with make_client(payload_models, payload_log=str(half), payload_sample=0.5) as client:
        for _ in range(400):
            _post(client, f"/v1/models/{IRIS}/predict", {"instances": [IRIS_ROW]})
    assert 140 < len(records(half)) < 260  # 200 expected; this misses once in a million


def test_the_route_is_recorded_pinned_label_canary_and_shadow(
    payload_registry: Path, tmp_path: Path
) -> None:
    model = payload_registry / IRIS
    labels.change(model, "production", {"version": 1, "canary": {"version": 2, "weight": 0.5}}, "t")
    labels.change(model, "staging", {"version": 1, "shadow": {"version": 2, "fraction": 1.0}}, "t")
    folder = tmp_path / "payloads"
    body = {"instances": [IRIS_ROW]}
    with make_client(payload_registry, payload_log=str(folder)) as client:
        _post(client, f"/v1/models/{IRIS}/versions/2/predict", body, "pinned")
        answered = {
            _post(client, f"/v1/models/{IRIS}/predict", body, f"p{i}").headers["x-model-version"]
            for i in range(40)
        }
        assert answered == {"1", "2"}
        _post(client, f"/v1/models/{IRIS}/labels/staging/predict", body, "shadowed")
        until(lambda: len(records(folder)) == 43)
    by_id: dict[str, list[dict[str, Any]]] = {}
    for record in records(folder):
        by_id.setdefault(record["id"], []).append(record)
    assert [(r["route"], r["version"]) for r in by_id["pinned"]] == [("pinned", 2)]
    for i in range(40):
        [record] = by_id[f"p{i}"]
        assert (record["route"], record["version"]) in {("label", 1), ("canary", 2)}
    answer, shadow = by_id["shadowed"]
    assert (answer["route"], answer["version"], answer["shadow_version"]) == ("label", 1, 2)
    assert (shadow["route"], shadow["version"]) == ("shadow", 2)
    assert shadow["inputs"] == answer["inputs"] and shadow["outputs"] == answer["outputs"]


def _digit_png() -> bytes:
    picture = Image.new("L", (80, 80), 255)
    ImageDraw.Draw(picture).line((40, 10, 40, 70), fill=0, width=8)
    return png_bytes(picture)


def test_images_are_the_digit_the_model_saw_or_its_sha256(
    payload_models: Path, tmp_path: Path
) -> None:
    digits, hashes = tmp_path / "digits", tmp_path / "hashes"
    upload = {"file": ("one.png", _digit_png(), "image/png")}
    with make_client(payload_models, payload_log=str(digits)) as client:
        response = client.post(f"/v1/models/{DIGITS}/predict/image", files=upload)
        assert response.status_code == 200, response.text
        shown = client.post(f"/v1/models/{DIGITS}/preprocess/image", files=upload).content
    [record] = records(digits)
    digit = np.array(record["inputs"]["image"])
    assert digit.shape == (1, 28, 28)
    seen = np.asarray(Image.open(io.BytesIO(shown)), dtype=np.float64)  # 8-bit greys
    assert np.abs(digit[0] - seen).max() <= 1

    pixels = np.round(digit[0]).reshape(-1).tolist()
    with make_client(payload_models, payload_log=str(hashes), payload_images="sha256") as client:
        _post(client, f"/v1/models/{DIGITS}/predict", {"instances": [pixels]})
    [record] = records(hashes)
    expected = hashlib.sha256(np.asarray(pixels, dtype="<f4").tobytes()).hexdigest()
    assert record["inputs"]["image"] == [expected]


def test_segments_rotate_and_the_folder_stays_under_its_bound(
    payload_models: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "payloads"
    limits = {"payload_segment_bytes": 2048, "payload_max_bytes": 8192}
    with make_client(payload_models, payload_log=str(folder), **limits) as client:
        for i in range(150):
            _post(client, f"/v1/models/{IRIS}/predict", {"instances": [IRIS_ROW]}, f"r{i}")
            sizes = [path.stat().st_size for path in folder.iterdir()]
            assert sum(sizes) <= 8192
        until(lambda: client.get("/health/ready").json()["payloads"]["written"] == 150)
        removed = _metric(client, "serving_payload_segments_removed_total")
    segments = sorted(folder.glob("*.jsonl"))
    assert len(segments) >= 3 and not list(folder.glob("*.partial"))
    assert all(path.stat().st_size <= 2048 for path in segments)
    kept = [record["id"] for record in records(folder)]
    assert kept == [f"r{i}" for i in range(150 - len(kept), 150)]  # the newest, in order
    assert removed >= 150 * 400 // 8192  # ~400-byte records: most of them were removed


def test_a_folder_that_cannot_be_written_fails_no_response(
    payload_models: Path, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    folder = blocker / "payloads"
    with make_client(payload_models, payload_log=str(folder)) as client:
        for _ in range(5):
            _post(client, f"/v1/models/{IRIS}/predict", {"instances": [IRIS_ROW]})
        until(lambda: client.get("/health/ready").json()["payloads"]["dropped"] == 5)
        ready = client.get("/health/ready")
        dropped = _metric(client, 'serving_payloads_dropped_total{reason="sink_failed"}')
    assert ready.status_code == 200
    payloads = ready.json()["payloads"]
    assert payloads["written"] == 0
    assert str(folder) in payloads["problem"]["message"]
    assert "Not a directory" in payloads["problem"]["message"]
    assert payloads["problem"]["count"] >= 1
    assert dropped == 5
