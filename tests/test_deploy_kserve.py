"""deploy/kserve/: valid against KServe's CRD schemas (scripts/validate_kserve.py), strictly,
and pointing at a port and routes the server really has."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from tests.helpers import REPO, make_client

KSERVE = REPO / "deploy" / "kserve"
VALIDATE = [sys.executable, str(REPO / "scripts" / "validate_kserve.py")]
MANIFESTS = sorted(KSERVE.glob("*.yaml"))


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*VALIDATE, *map(str, paths)], capture_output=True, text=True)


def containers() -> list[dict[str, object]]:
    found = []
    for path in MANIFESTS:
        document = yaml.safe_load(path.read_text())
        spec = document["spec"]
        found.extend(spec["predictor"].get("containers", []) if "predictor" in spec else [])
        found.extend(spec.get("containers", []))
    return found


def test_kserve_manifests_are_valid() -> None:
    assert {path.name for path in MANIFESTS} == {
        "inferenceservice.yaml",
        "inferenceservice-runtime.yaml",
        "servingruntime.yaml",
    }
    result = validate(*MANIFESTS)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("old", "new", "error"),
    [
        ("containerPort: 8080", 'containerPort: "eighty"', "'eighty' is not of type 'integer'"),
        ("scaleMetric: cpu", "scaleMetric: gpu", "'gpu' is not one of"),
        ("periodSeconds: 2\n", "periodSecond: 2\n", "'periodSecond' was unexpected"),
        (
            "name: modelserve\n",
            "name: Model_Serve\n",
            "metadata.name: 'Model_Serve' does not match",
        ),
    ],
)
def test_a_wrong_field_is_reported(tmp_path: Path, old: str, new: str, error: str) -> None:
    text = (KSERVE / "inferenceservice.yaml").read_text()
    assert old in text
    broken = tmp_path / "broken.yaml"
    broken.write_text(text.replace(old, new, 1))
    result = validate(broken)
    assert result.returncode == 1
    assert error in result.stderr


def test_an_unknown_kind_is_reported(tmp_path: Path) -> None:
    other = tmp_path / "other.yaml"
    other.write_text("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceGraph\nspec: {}\n")
    result = validate(other)
    assert result.returncode == 1 and "not a KServe kind" in result.stderr


def test_containers_listen_on_8080_and_probe_routes_the_server_answers(
    iris_registry: Path,
) -> None:
    probes = set()
    for container in containers():
        env = {item["name"]: item["value"] for item in container["env"]}  # type: ignore[attr-defined]
        assert env["SERVING_PORT"] == "8080"
        assert [port["containerPort"] for port in container["ports"]] == [8080]  # type: ignore[attr-defined]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            if probe in container:
                assert container[probe]["httpGet"]["port"] == 8080  # type: ignore[index]
                probes.add(container[probe]["httpGet"]["path"])  # type: ignore[index]
    assert probes == {"/v2/health/live", "/v2/health/ready"}
    client: TestClient
    with make_client(iris_registry) as client:
        for path in probes:
            assert client.get(path).status_code == 200
