"""Training writes the registry, the server reads it: the folder format is the contract."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from app.core.columns import matrix_columns
from app.core.dataplane import run_columns
from app.registry import outputs as roles
from app.registry.registry import ModelRegistry
from app.registry.signature import read_signature
from training.pipeline import SPECS


def test_every_trained_model_loads_in_the_server_and_predicts(quick_registry: Path) -> None:
    registry = ModelRegistry.load(quick_registry)
    assert registry.broken() == []
    assert sorted(registry.ready()) == sorted(spec.name for spec in SPECS)
    for name, versions in registry.ready().items():
        model = versions[1]
        batch = np.full((3, model.metadata.input.n_features), 2.0)
        outputs = run_columns(model, matrix_columns(model.signature, batch))
        probabilities = roles.probabilities(model.signature, outputs)
        assert probabilities.shape == (3, len(model.metadata.class_labels)), name
        assert probabilities.sum(axis=1) == pytest.approx(np.ones(3), abs=1e-5), name


def test_corrupted_artifact_is_caught_by_its_checksum(iris_registry: Path) -> None:
    artifact = iris_registry / "iris-random-forest" / "1" / "model.joblib"
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0xFF
    artifact.write_bytes(bytes(data))
    registry = ModelRegistry.load(iris_registry)
    assert "iris-random-forest" not in registry.ready()
    assert [b.reason for b in registry.broken()] == [
        "model.joblib does not match its recorded SHA-256 checksum"
    ]


def test_every_trained_model_has_a_signature_naming_its_artifacts_tensors(
    quick_registry: Path,
) -> None:
    registry = ModelRegistry.load(quick_registry)
    for name, versions in registry.ready().items():
        metadata = versions[1].metadata.model_dump()
        signature = metadata["signature"]
        assert read_signature(metadata).format_version == 1, name  # the server's reader
        assert signature["task"] == "classification", name
        assert signature["classes"]["labels"] == metadata["class_labels"], name
        assert signature["example"] in metadata["files"], name
        (tensor,) = signature["tensors"]
        assert tensor["columns"] == [column["name"] for column in signature["inputs"]], name
        artifact = quick_registry / name / "1" / metadata["artifact"]
        assert (tensor["name"], signature["outputs"]["probabilities"]) == _names(artifact), name


def _names(artifact: Path) -> tuple[str, str]:
    """The artifact's input tensor and its probabilities output, as its runtime names them."""
    if artifact.suffix == ".onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(str(artifact), providers=["CPUExecutionProvider"])
        outputs = [o.name for o in session.get_outputs()]
        assert "probabilities" in outputs
        return session.get_inputs()[0].name, "probabilities"
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(artifact))
    return interpreter.get_input_details()[0]["name"], interpreter.get_output_details()[0]["name"]
