"""Requests an unauthenticated client can send to break the server's reading of paths, query
strings and admin calls: a real `python -m app`, every answer a 4xx in its dialect's shape."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx2 as httpx
import pytest

from tests.helpers import IRIS_ROW, ServerProcess

TOKEN = "hostile-token"
HUGE = "9" * 5000  # int() refuses more than 4,300 digits
ROWS = {"instances": [IRIS_ROW]}
V2_BODY = {"inputs": [{"name": "input", "shape": [1, 4], "datatype": "FP32", "data": IRIS_ROW}]}


@pytest.fixture(scope="module")
def server(quick_registry: Path) -> Iterator[ServerProcess]:
    server = ServerProcess(
        quick_registry, admin_token=TOKEN, reload_interval_seconds="0", compute_workers="1"
    )
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def native_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        # The control plane, as FastAPI reads it.
        ("GET", "/v1/models/iris-svm/versions/01", None, 404),
        ("GET", "/v1/models/iris-svm/versions/01/card", None, 404),
        ("GET", "/v1/models/iris-svm/versions/01/plots/confusion_matrix.png", None, 404),
        ("GET", f"/v1/models/iris-svm/versions/{HUGE}", None, 422),
        # Each dialect of the data plane.
        ("POST", "/v1/models/iris-svm/versions/01/predict", ROWS, 404),
        ("POST", f"/v1/models/iris-svm/versions/{HUGE}/predict", ROWS, 422),
        ("POST", f"/v1/models/iris-svm/predict?top_k={HUGE}", ROWS, 422),
        ("POST", "/v1/models/iris-svm/predict?top_k=01", ROWS, 200),  # a count, not a name
        ("POST", "/v1/models/iris-svm/versions/01:predict", ROWS, 404),
        ("POST", f"/v1/models/iris-svm/versions/{HUGE}:predict", ROWS, 422),
        ("POST", "/v2/models/iris-svm/versions/01/infer", V2_BODY, 404),
        ("POST", f"/v2/models/iris-svm/versions/{HUGE}/infer", V2_BODY, 422),
        ("GET", "/v2/models/iris-svm/versions/01/ready", None, 404),
    ],
)
def test_versions_and_counts_that_are_not_canonical_numbers(
    server: ServerProcess, method: str, path: str, body: object, status: int
) -> None:
    response = httpx.request(method, server.base_url + path, json=body, timeout=10)
    if status == 422:  # TF Serving's dialect says 400 for what the others say 422
        assert response.status_code in (400, 422), response.text[:300]
    else:
        assert response.status_code == status, response.text[:300]
    if status != 200:
        error = response.json()["error"]
        # Native: {"error": {"code", "message"}}; V2 and TF Serving: {"error": "<message>"}.
        assert isinstance(error, str) or error["code"] in ("version_not_found", "invalid_request")
    assert "Traceback" not in server.output()


@pytest.mark.parametrize(
    "body",
    [
        {"version": True},
        {"version": "1"},
        {"version": 1.0},
        {"version": 1, "canary": {"version": "1", "weight": 0.1}},
        {"version": 1, "shadow": {"version": True, "fraction": 1.0}},
    ],
)
def test_admin_bodies_are_read_strictly(server: ServerProcess, body: object) -> None:
    response = httpx.put(
        f"{server.base_url}/v1/admin/models/iris-svm/labels/production",
        json=body,
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert response.status_code == 422, response.text  # before: coerced to version 1
    assert native_code(response) == "invalid_request"


def test_an_admin_body_with_a_5000_digit_version_is_refused(server: ServerProcess) -> None:
    response = httpx.put(
        f"{server.base_url}/v1/admin/models/iris-svm/labels/production",
        content=json.dumps({"version": 1}).replace("1", HUGE),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code in (400, 422), response.text
    assert "error" in response.json()
    assert "Traceback" not in server.output()


def test_failed_admin_attempts_are_limited_per_client_address(server: ServerProcess) -> None:
    reload = f"{server.base_url}/v1/admin/reload"
    with httpx.Client(timeout=10) as client:
        statuses = [
            client.post(reload, headers={"Authorization": f"Bearer guess-{n}"}).status_code
            for n in range(50)
        ]
        right = client.post(reload, headers={"Authorization": f"Bearer {TOKEN}"})
    # Ten tries a minute (SERVING_ADMIN_ATTEMPTS_PER_MINUTE), then 429 for every admin call,
    # a right token included: a right guess during the wait would say nothing.
    assert statuses == [401] * 10 + [429] * 40, statuses
    assert right.status_code == 429 and native_code(right) == "too_many_attempts"
    assert 1 <= int(right.headers["retry-after"]) <= 60
    # Another address is not held back by this one's failures.
    other = httpx.HTTPTransport(local_address="127.0.0.2")
    with httpx.Client(transport=other, timeout=10) as client:
        assert client.post(reload, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200
    # One log line for the whole flood, until the next window.
    assert server.output().count("admin call refused") == 1
