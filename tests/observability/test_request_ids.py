"""X-Request-Id: the client's when it is safe, else a new one, echoed by every route and dialect
and written in the access log."""

from __future__ import annotations

import logging
import uuid
from pathlib import Path

import pytest

from tests.helpers import IRIS_ROW, make_client
from tests.observability.conftest import IRIS

ROW = {"instances": [IRIS_ROW]}
V2_BODY = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": IRIS_ROW}]}


def test_the_client_id_is_echoed_by_native_v2_and_tf_serving(payload_models: Path) -> None:
    with make_client(payload_models) as client:
        calls = [
            ("native", f"/v1/models/{IRIS}/predict", ROW),
            ("v2", f"/v2/models/{IRIS}/infer", V2_BODY),
            ("tfserving", f"/v1/models/{IRIS}:predict", ROW),
        ]
        for dialect, path, body in calls:
            response = client.post(path, json=body, headers={"X-Request-Id": f"{dialect}-42"})
            assert response.status_code == 200, response.text
            assert response.headers["x-request-id"] == f"{dialect}-42"


def test_every_route_answers_with_an_id_errors_included(payload_models: Path) -> None:
    with make_client(payload_models) as client:
        responses = [
            client.get("/health/live"),
            client.get("/metrics"),
            client.get(f"/v1/models/{IRIS}"),
            client.get("/nowhere"),
            client.post("/v1/models/nope/predict", json=ROW),
            client.post(f"/v1/models/{IRIS}/predict", json={"instances": [[1.0]]}),
            client.post(f"/v2/models/{IRIS}/infer", json={"inputs": []}),
        ]
    ids = [response.headers["x-request-id"] for response in responses]
    assert [response.status_code for response in responses] == [200, 200, 200, 404, 404, 422, 400]
    assert all(uuid.UUID(value).version == 4 for value in ids) and len(set(ids)) == len(ids)


@pytest.mark.parametrize(
    "unsafe",
    ["x" * 129, "two words", 'quote"d', "-leading-dash", "tab\tinside", "caf\u00e9", ""],
)
def test_an_unsafe_id_is_replaced_not_refused(payload_models: Path, unsafe: str) -> None:
    with make_client(payload_models) as client:
        response = client.post(
            f"/v1/models/{IRIS}/predict", json=ROW, headers={"X-Request-Id": unsafe.encode()}
        )
    assert response.status_code == 200
    assert uuid.UUID(response.headers["x-request-id"]).version == 4


def test_safe_ids_of_common_shapes_are_kept(payload_models: Path) -> None:
    kept = [
        str(uuid.uuid4()),
        "01J9Z3K4M5N6P7Q8R9S0T1V2W3",  # a ULID
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # a W3C traceparent
        "Root=1-5759e988-bd862e3fe1be46a994272793",
        "a" * 128,
    ]
    with make_client(payload_models) as client:
        for value in kept:
            response = client.post(
                f"/v1/models/{IRIS}/predict", json=ROW, headers={"X-Request-Id": value}
            )
            assert response.headers["x-request-id"] == value


def test_the_access_log_names_each_request_by_its_id(
    payload_models: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    with make_client(payload_models, access_log=True) as client:
        client.post(f"/v1/models/{IRIS}/predict?top_k=1", json=ROW, headers={"X-Request-Id": "a1"})
        client.get("/nowhere", headers={"X-Request-Id": "b2"})
    lines = [r.getMessage() for r in caplog.records if r.name == "app.access"]
    assert len(lines) == 2
    assert f'"POST /v1/models/{IRIS}/predict HTTP/1.1" 200 ' in lines[0]  # no query string
    assert lines[0].endswith(" ms a1")
    assert '"GET /nowhere HTTP/1.1" 404 ' in lines[1] and lines[1].endswith(" ms b2")


def test_without_the_setting_requests_are_not_logged(
    payload_models: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="app.access")
    with make_client(payload_models) as client:
        client.post(f"/v1/models/{IRIS}/predict", json=ROW)
    assert not [r for r in caplog.records if r.name == "app.access"]
