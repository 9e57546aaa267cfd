"""The clients ML engineers already have, against a real server process: tritonclient's HTTP
client and KServe's InferenceRESTClient (V1 and V2), predictions equal to the native API's."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
import tritonclient.http as triton
from kserve import InferenceRESTClient, InferInput, InferRequest, RESTConfig
from PIL import Image
from tritonclient.utils import InferenceServerException

from tests.helpers import IRIS_ROW, ServerProcess, mnist_digits, png_bytes
from tests.v2_spec import validate

ROWS = np.array([IRIS_ROW, [6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.3, 1.3]], dtype=np.float32)


@pytest.fixture(scope="module")
def server(quick_registry: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A server over the quick registry, plus one iris-svm version that fails to load."""
    registry = tmp_path_factory.mktemp("clients") / "models"
    shutil.copytree(quick_registry, registry)
    broken = registry / "iris-svm" / "2"
    broken.mkdir()
    (broken / "metadata.json").write_text("{}")
    process = ServerProcess(registry, reload_interval_seconds="0")
    try:
        process.wait_ready()
        yield process.base_url
    finally:
        process.stop()


@pytest.fixture(scope="module")
def triton_client(server: str) -> Iterator[triton.InferenceServerClient]:
    client = triton.InferenceServerClient(server.removeprefix("http://"))
    yield client
    client.close()


def text(values: Any) -> list[str]:
    """BYTES elements as strings: tritonclient gives bytes from binary data, str from JSON."""
    return [v.decode() if isinstance(v, bytes) else str(v) for v in values]


def native(server: str, model: str, rows: Any) -> tuple[list[str], np.ndarray]:
    """Labels and probabilities (in class_labels order) from the native dialect."""
    labels = httpx.get(f"{server}/v1/models/{model}").json()["class_labels"]
    response = httpx.post(f"{server}/v1/models/{model}/predict", json={"instances": rows})
    predictions = response.json()["predictions"]
    scores = [[p["probabilities"][label] for label in labels] for p in predictions]
    return [p["label"] for p in predictions], np.array(scores)


def test_triton_health_metadata_and_repository_index(
    triton_client: triton.InferenceServerClient,
) -> None:
    assert triton_client.is_server_live() and triton_client.is_server_ready()
    assert triton_client.is_model_ready("iris-svm")
    assert triton_client.is_model_ready("iris-svm", "1")
    assert not triton_client.is_model_ready("iris-svm", "2")  # failed to load
    assert not triton_client.is_model_ready("nope")
    server_metadata = triton_client.get_server_metadata()
    validate(server_metadata, "metadata_server_response")
    assert "binary_tensor_data" in server_metadata["extensions"]
    metadata = triton_client.get_model_metadata("mnist-cnn")
    validate(metadata, "metadata_model_response")
    assert metadata["inputs"] == [{"name": "input", "datatype": "FP32", "shape": [-1, 784]}]
    index = triton_client.get_model_repository_index()
    assert len(index) == 15
    [failed] = [entry for entry in index if entry["state"] != "READY"]
    assert (failed["name"], failed["version"], failed["state"]) == ("iris-svm", "2", "UNAVAILABLE")


@pytest.mark.parametrize("binary", [True, False])
def test_triton_infer_iris_json_and_binary(
    server: str, triton_client: triton.InferenceServerClient, binary: bool
) -> None:
    tensor = triton.InferInput("input", list(ROWS.shape), "FP32")
    tensor.set_data_from_numpy(ROWS, binary_data=binary)
    outputs = [
        triton.InferRequestedOutput(name, binary_data=binary)
        for name in ("label", "class_index", "probabilities")
    ]
    result = triton_client.infer("iris-knn", [tensor], outputs=outputs, request_id="r1")
    labels, scores = native(server, "iris-knn", ROWS.tolist())
    assert text(result.as_numpy("label")) == labels
    assert result.as_numpy("class_index").tolist() == scores.argmax(axis=1).tolist()
    np.testing.assert_allclose(result.as_numpy("probabilities"), scores, atol=1e-5)
    response = result.get_response()
    assert response["id"] == "r1" and response["model_version"] == "1"
    validate(response, "inference_response", binary=binary)


def test_triton_class_count(server: str, triton_client: triton.InferenceServerClient) -> None:
    tensor = triton.InferInput("input", list(ROWS.shape), "FP32")
    tensor.set_data_from_numpy(ROWS)
    output = triton.InferRequestedOutput("probabilities", class_count=2)
    result = triton_client.infer("iris-logistic-regression", [tensor], outputs=[output])
    top = result.as_numpy("probabilities")
    assert top.shape == (3, 2)
    labels, scores = native(server, "iris-logistic-regression", ROWS.tolist())
    for row, (label, row_scores) in enumerate(zip(labels, scores, strict=True)):
        score, index, name = text(top[row])[0].split(":")
        assert name == label and int(index) == int(row_scores.argmax())
        assert float(score) == pytest.approx(row_scores.max(), abs=1e-5)


def test_triton_mnist_uint8_and_encoded_images(
    server: str, triton_client: triton.InferenceServerClient, mnist_dir: Path
) -> None:
    images, _ = mnist_digits(mnist_dir, 5)
    tensor = triton.InferInput("input", [5, 28, 28], "UINT8")
    tensor.set_data_from_numpy(images)
    result = triton_client.infer("mnist-cnn", [tensor])
    labels, _ = native(server, "mnist-cnn", images.reshape(5, -1).tolist())
    assert text(result.as_numpy("label")) == labels
    pngs = [png_bytes(Image.fromarray(255 - image)) for image in images]
    tensor = triton.InferInput("input", [5], "BYTES")
    tensor.set_data_from_numpy(np.array(pngs, dtype=np.object_))
    result = triton_client.infer("mnist-cnn", [tensor])
    upload = httpx.post(
        f"{server}/v1/models/mnist-cnn/predict/image", files=[("file", p) for p in pngs]
    ).json()["predictions"]
    assert text(result.as_numpy("label")) == [p["label"] for p in upload]


def test_triton_raises_the_servers_message(triton_client: triton.InferenceServerClient) -> None:
    tensor = triton.InferInput("input", [1, 3], "FP32")
    tensor.set_data_from_numpy(np.zeros((1, 3), dtype=np.float32))
    with pytest.raises(InferenceServerException) as raised:
        triton_client.infer("iris-svm", [tensor])
    assert raised.value.status() == "400"
    assert (
        raised.value.message() == "inputs[0].shape [1, 3] does not fit the model: it takes [-1, 4]"
    )
    with pytest.raises(InferenceServerException, match="No model 'nope'"):
        triton_client.get_model_metadata("nope")


async def _kserve(server: str) -> dict[str, Any]:
    v1 = InferenceRESTClient(RESTConfig(protocol="v1"))
    v2 = InferenceRESTClient(RESTConfig(protocol="v2"))
    try:
        found: dict[str, Any] = {
            "v2_live": await v2.is_server_live(server),
            "v2_ready": await v2.is_server_ready(server),
            "v2_model_ready": await v2.is_model_ready(server, "iris-svm"),
            "v2_unknown_ready": await v2.is_model_ready(server, "nope"),
            "v1_model_ready": await v1.is_model_ready(server, "iris-svm"),
        }
        for binary in (False, True):
            tensor = InferInput("input", list(ROWS.shape), "FP32")
            tensor.set_data_from_numpy(ROWS, binary_data=binary)
            request = InferRequest("iris-svm", [tensor], request_id="k1")
            response = await v2.infer(server, request, model_name="iris-svm")
            found[f"v2_binary_{binary}"] = {o.name: o.as_numpy() for o in response.outputs}
            found[f"v2_id_{binary}"] = response.id
        found["v1"] = await v1.infer(server, {"instances": ROWS.tolist()}, model_name="iris-svm")
        return found
    finally:
        await v1.close()
        await v2.close()


def test_kserve_rest_client_v1_and_v2(server: str) -> None:
    found = asyncio.run(_kserve(server))
    assert found["v2_live"] is True and found["v2_ready"] is True
    assert found["v2_model_ready"] is True and found["v2_unknown_ready"] is False
    assert found["v1_model_ready"] is True
    labels, scores = native(server, "iris-svm", ROWS.tolist())
    for binary in (False, True):
        outputs = found[f"v2_binary_{binary}"]
        assert found[f"v2_id_{binary}"] == "k1"
        assert [str(label) for label in outputs["label"]] == labels
        np.testing.assert_allclose(outputs["probabilities"], scores, atol=1e-5)
    np.testing.assert_allclose(found["v1"]["predictions"], scores, atol=1e-5)
