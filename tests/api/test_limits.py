"""Body size, deadline, overload, security headers and CORS."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from app.main import create_app
from app.settings import Settings
from tests.helpers import IRIS_ROW, make_client, noisy_photo_png, png_bytes

IRIS = "/v1/models/iris-svm/predict"


def test_body_over_the_limit_gets_413_before_it_is_read(iris_registry: Path) -> None:
    received: list[int] = []

    def body() -> object:
        for _ in range(100):
            received.append(1)
            yield b" " * 1024

    with make_client(iris_registry, max_body_bytes=2048) as client:
        declared = client.post(
            IRIS, content=b"x" * 4096, headers={"content-type": "application/json"}
        )
        streamed = client.post(IRIS, content=body(), headers={"content-type": "application/json"})
        ok = client.post(IRIS, json={"instances": [IRIS_ROW]})
    assert declared.status_code == 413
    assert declared.json()["error"]["code"] == "payload_too_large"
    assert streamed.status_code == 413 and streamed.json()["error"]["code"] == "payload_too_large"
    assert ok.status_code == 200


def test_image_upload_over_the_body_limit_gets_413(iris_registry: Path) -> None:
    data = png_bytes(Image.effect_noise((300, 300), 100).convert("L"))
    with make_client(iris_registry, max_body_bytes=len(data) // 2) as client:
        response = client.post(
            "/v1/models/mnist-cnn/predict/image", files={"file": ("big.png", data)}
        )
    assert response.status_code == 413


def test_slow_request_is_abandoned_with_504(quick_registry: Path) -> None:
    image = noisy_photo_png(600)
    images = [("file", (f"{i}.png", image)) for i in range(20)]
    with make_client(quick_registry, request_timeout_seconds=0.05) as client:
        response = client.post("/v1/models/mnist-cnn/predict/image", files=images)
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "deadline_exceeded"
        assert client.post(IRIS, json={"instances": [IRIS_ROW]}).status_code == 200


def test_overload_gets_503_with_retry_after_and_health_still_answers(quick_registry: Path) -> None:
    """Thirty concurrent slow uploads against a cap of two: the rest are turned away at once."""
    app = create_app(
        Settings(models_dir=quick_registry, reload_interval_seconds=0, max_in_flight=2)
    )
    image = noisy_photo_png(600)

    async def scenario() -> tuple[list[httpx.Response], httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://test") as client,
        ):
            uploads = [
                client.post(
                    "/v1/models/mnist-cnn/predict/image",
                    files=[("file", (f"{i}.png", image)) for i in range(4)],
                )
                for _ in range(30)
            ]
            responses = await asyncio.gather(*uploads)
            health = await client.get("/health/live")
        return responses, health

    responses, health = asyncio.run(scenario())
    statuses = [r.status_code for r in responses]
    assert statuses.count(200) >= 2 and statuses.count(503) >= 1
    assert set(statuses) <= {200, 503}
    refused = next(r for r in responses if r.status_code == 503)
    assert refused.json()["error"]["code"] == "overloaded"
    assert int(refused.headers["retry-after"]) >= 1
    assert health.status_code == 200


def test_security_headers_on_every_response(client: TestClient) -> None:
    for response in (client.get("/v1/models"), client.get("/nope"), client.get("/health/live")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "default-src 'none'" in response.headers["content-security-policy"]
    for page in ("/", "/docs", "/redoc"):  # their own files only: nothing inline, no CDN
        policy = client.get(page).headers["content-security-policy"]
        assert "default-src 'none'" in policy and "script-src 'self';" in policy
        assert "http" not in policy and "unsafe-eval" not in policy


def test_cors_is_off_unless_configured(iris_registry: Path, client: TestClient) -> None:
    preflight = {"origin": "https://a.example", "access-control-request-method": "POST"}
    response = client.options(IRIS, headers=preflight)
    assert "access-control-allow-origin" not in response.headers
    with make_client(iris_registry, cors_origins=["https://a.example"]) as cors_client:
        allowed = cors_client.options(IRIS, headers=preflight)
        assert allowed.headers["access-control-allow-origin"] == "https://a.example"


def test_cors_origins_setting_reads_json_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SERVING_CORS_ORIGINS", json.dumps(["https://a.example"]))
    assert Settings().cors_origins == ["https://a.example"]
