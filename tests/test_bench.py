"""The benchmark's requests are valid: each scenario gets a 200 from the app it targets."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from bench import scenarios
from bench.floor import create_app as create_floor_app
from tests.helpers import make_client


def test_every_scenario_request_is_answered_200(quick_registry: Path, mnist_dir: Path) -> None:
    chosen = scenarios.build(mnist_dir)
    with make_client(quick_registry) as client:
        for scenario in chosen:
            if scenario.server == "floor":
                continue
            request = scenario.request
            response = client.post(
                request.path, content=request.body, headers={"content-type": request.content_type}
            )
            assert response.status_code == 200, (scenario.name, response.text)
            assert response.json()["predictions"]


def test_floor_returns_a_constant_for_a_json_body(mnist_dir: Path) -> None:
    floor = next(s for s in scenarios.build(mnist_dir) if s.name == scenarios.FLOOR)
    with TestClient(create_floor_app()) as client:
        response = client.post(
            floor.request.path,
            content=floor.request.body,
            headers={"content-type": floor.request.content_type},
        )
    assert response.status_code == 200 and response.json() == {"status": "ok"}
