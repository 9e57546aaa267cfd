"""The Open Inference Protocol (V2) through the app: every response checked against the spec's
OpenAPI document (tests/v2_spec.py), predictions compared with the native dialect's."""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path
from typing import Any

import httpx2 as httpx
import numpy as np
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.helpers import IRIS_ROW, make_client, mnist_digits, png_bytes
from tests.v2_spec import split_binary, validate

IRIS_ROWS = [IRIS_ROW, [6.7, 3.0, 5.2, 2.3], [5.9, 2.8, 4.3, 1.3]]


def tensor(data: Any, shape: list[int], datatype: str = "FP32", name: str = "input") -> Any:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def infer(client: TestClient, model: str, body: Any) -> httpx.Response:
    return client.post(f"/v2/models/{model}/infer", content=json.dumps(body))


def binary_request(header: dict[str, Any], *parts: bytes) -> tuple[bytes, dict[str, str]]:
    head = json.dumps(header).encode()
    return head + b"".join(parts), {"Inference-Header-Content-Length": str(len(head))}


def ok(response: httpx.Response) -> dict[str, Any]:
    """A JSON infer response, checked against the spec."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    document: dict[str, Any] = response.json()
    validate(document, "inference_response")
    return document


def error(response: httpx.Response, status: int) -> str:
    """A V2 error: the status, and the body {"error": "<message>"} the spec defines."""
    assert response.status_code == status, response.text
    document = response.json()
    validate(document, "inference_error_response")
    assert set(document) == {"error"} and isinstance(document["error"], str)
    return str(document["error"])


def native(client: TestClient, model: str, rows: list[Any]) -> list[dict[str, Any]]:
    response = client.post(f"/v1/models/{model}/predict", json={"instances": rows})
    assert response.status_code == 200
    return response.json()["predictions"]  # type: ignore[no-any-return]


def outputs(document: dict[str, Any]) -> dict[str, Any]:
    return {output["name"]: output for output in document["outputs"]}


def test_server_metadata_health_and_extensions(client: TestClient) -> None:
    for path in ("/v2", "/v2/"):
        document = client.get(path).json()
        validate(document, "metadata_server_response")
        assert set(document["extensions"]) == {
            "binary_tensor_data",
            "classification",
            "model_configuration",
            "model_repository",
        }
    assert client.get("/v2/health/live").json() == {"live": True}
    assert client.get("/v2/health/ready").json() == {"ready": True}


def test_server_not_ready_without_models(tmp_path: Path) -> None:
    with make_client(tmp_path / "empty") as empty:
        message = error(empty.get("/v2/health/ready"), 503)
        assert "No model version is loaded" in message
        assert empty.get("/v2/health/live").status_code == 200


@pytest.mark.parametrize(
    ("model", "width", "classes"), [("iris-svm", 4, 3), ("mnist-cnn", 784, 10)]
)
def test_model_metadata_from_the_registry(
    client: TestClient, model: str, width: int, classes: int
) -> None:
    for path in (f"/v2/models/{model}", f"/v2/models/{model}/versions/1"):
        document = client.get(path).json()
        validate(document, "metadata_model_response")
        assert document["name"] == model and document["versions"] == ["1"]
        # The type the artifact is fed: skl2onnx's float32, or float64 where that export is
        # the faithful one; the input takes any numeric type either way.
        [tensor] = document["inputs"]
        assert tensor["name"] == "input" and tensor["shape"] == [-1, width]
        assert tensor["datatype"] in ("FP32", "FP64")
        assert [o["name"] for o in document["outputs"]] == ["label", "class_index", "probabilities"]
        assert document["outputs"][2]["shape"] == [-1, classes]
        assert document["platform"] in ("onnxruntime_onnx", "litert_tflite", "sklearn_joblib")
        assert len(document["parameters"]["class_labels"].split(",")) == classes
    accepts = client.get("/v2/models/mnist-cnn").json()["parameters"]["accepts"]
    assert "UINT8 [-1, 28, 28]" in accepts and "BYTES" in accepts


def test_model_ready_and_not(client: TestClient) -> None:
    for path in ("/v2/models/iris-svm/ready", "/v2/models/iris-svm/versions/1/ready"):
        assert client.get(path).json() == {"name": "iris-svm", "ready": True}
    assert "No model 'nope'" in error(client.get("/v2/models/nope/ready"), 404)
    assert "No version 9" in error(client.get("/v2/models/iris-svm/versions/9/ready"), 404)
    error(client.get("/v2/models/iris-svm/versions/0/ready"), 400)
    # A version that is not a number is a label (issue 14): this model has none.
    assert "has no label 'x'" in error(client.get("/v2/models/iris-svm/versions/x/ready"), 404)


def test_infer_json_iris_equals_native_and_echoes_id(client: TestClient) -> None:
    model = "iris-logistic-regression"
    document = ok(infer(client, model, {"id": "42", "inputs": [tensor(IRIS_ROWS, [3, 4])]}))
    assert (document["id"], document["model_name"], document["model_version"]) == ("42", model, "1")
    by_name = outputs(document)
    expected = native(client, model, IRIS_ROWS)
    assert by_name["label"] == {
        "name": "label",
        "datatype": "BYTES",
        "shape": [3],
        "data": [p["label"] for p in expected],
    }
    assert by_name["class_index"]["data"] == [p["class_index"] for p in expected]
    probabilities = np.array(by_name["probabilities"]["data"]).reshape(3, 3)
    assert by_name["probabilities"]["shape"] == [3, 3]
    assert by_name["probabilities"]["datatype"] == "FP32"
    wanted = [list(p["probabilities"].values()) for p in expected]
    np.testing.assert_allclose(probabilities, wanted, atol=1e-5)


@pytest.mark.parametrize(
    ("datatype", "data"),
    [
        ("FP64", IRIS_ROWS),
        ("FP16", IRIS_ROWS),
        ("FP32", [v for row in IRIS_ROWS for v in row]),  # flat
        ("INT32", [[5, 3, 1, 0], [7, 3, 5, 2], [6, 3, 4, 1]]),
        ("UINT16", [[5, 3, 1, 0], [7, 3, 5, 2], [6, 3, 4, 1]]),
        ("INT64", [[5, 3, 1, 0], [7, 3, 5, 2], [6, 3, 4, 1]]),
    ],
)
def test_infer_accepts_float_and_integer_types(
    client: TestClient, datatype: str, data: list[Any]
) -> None:
    document = ok(infer(client, "iris-knn", {"inputs": [tensor(data, [3, 4], datatype)]}))
    rows = np.array(data, dtype=np.float64).reshape(3, 4).tolist()
    expected = [p["label"] for p in native(client, "iris-knn", rows)]
    assert outputs(document)["label"]["data"] == expected


def test_json_fp32_is_the_same_tensor_as_binary_fp32(client: TestClient) -> None:
    """iris-logistic-regression takes float64: JSON numbers declared FP32 reach it rounded to
    FP32, as the same tensor sent in binary does, so both answer the same probabilities."""
    rows = np.array(IRIS_ROWS, dtype="<f4")
    header = {
        "inputs": [
            {
                "name": "input",
                "shape": [3, 4],
                "datatype": "FP32",
                "parameters": {"binary_data_size": rows.nbytes},
            }
        ]
    }
    head = json.dumps(header).encode()
    binary = client.post(
        "/v2/models/iris-logistic-regression/infer",
        content=head + rows.tobytes(),
        headers={"Inference-Header-Content-Length": str(len(head))},
    )
    from_json = ok(
        infer(client, "iris-logistic-regression", {"inputs": [tensor(IRIS_ROWS, [3, 4])]})
    )
    assert (
        outputs(ok(binary))["probabilities"]["data"] == outputs(from_json)["probabilities"]["data"]
    )


def test_infer_mnist_uint8_28_by_28_equals_native(client: TestClient, mnist_dir: Path) -> None:
    images, labels = mnist_digits(mnist_dir, 8)
    body = {"inputs": [tensor(images.tolist(), [8, 28, 28], "UINT8")]}
    document = ok(infer(client, "mnist-cnn", body))
    expected = native(client, "mnist-cnn", images.reshape(8, -1).tolist())
    assert outputs(document)["class_index"]["data"] == [p["class_index"] for p in expected]


def test_infer_binary_inputs_and_outputs(client: TestClient, mnist_dir: Path) -> None:
    images, _ = mnist_digits(mnist_dir, 4)
    pixels = images.astype("<f4").tobytes()
    header = {
        "inputs": [
            {
                "name": "input",
                "shape": [4, 784],
                "datatype": "FP32",
                "parameters": {"binary_data_size": len(pixels)},
            }
        ],
        "outputs": [
            {"name": "probabilities", "parameters": {"binary_data": True}},
            {"name": "label", "parameters": {"binary_data": True}},
            {"name": "class_index", "parameters": {"binary_data": False}},
        ],
    }
    body, headers = binary_request(header, pixels)
    response = client.post("/v2/models/mnist-mlp/infer", content=body, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/octet-stream"
    document, values = split_binary(
        response.content, int(response.headers["inference-header-content-length"])
    )
    validate(document, "inference_response", binary=True)
    assert [o["name"] for o in document["outputs"]] == ["probabilities", "label", "class_index"]
    expected = native(client, "mnist-mlp", images.reshape(4, -1).tolist())
    assert values["label"] == [p["label"] for p in expected]
    assert values["class_index"] == [p["class_index"] for p in expected]
    assert values["probabilities"].shape == (4, 10)
    np.testing.assert_allclose(
        values["probabilities"], [list(p["probabilities"].values()) for p in expected], atol=1e-5
    )


def test_binary_data_output_and_raw_binary_request(client: TestClient) -> None:
    row = np.array([IRIS_ROW], dtype="<f4").tobytes()
    body = {"inputs": [tensor(IRIS_ROW, [1, 4])], "parameters": {"binary_data_output": True}}
    response = infer(client, "iris-svm", body)
    document, values = split_binary(
        response.content, int(response.headers["inference-header-content-length"])
    )
    validate(document, "inference_response", binary=True)
    assert values["label"] == ["setosa"]
    raw = client.post(
        "/v2/models/iris-svm/infer", content=row, headers={"Inference-Header-Content-Length": "0"}
    )
    assert raw.status_code == 200
    _, values = split_binary(raw.content, int(raw.headers["inference-header-content-length"]))
    assert values["label"] == ["setosa"]


def _digit_pngs(mnist_dir: Path, count: int) -> tuple[list[bytes], list[int]]:
    images, labels = mnist_digits(mnist_dir, count)
    return [png_bytes(Image.fromarray(255 - image)) for image in images], labels.tolist()


def test_infer_bytes_images_binary_and_base64(client: TestClient, mnist_dir: Path) -> None:
    pngs, labels = _digit_pngs(mnist_dir, 6)
    upload = client.post(
        "/v1/models/mnist-cnn/predict/image", files=[("file", p) for p in pngs]
    ).json()["predictions"]
    expected = [p["label"] for p in upload]
    data = b"".join(struct.pack("<I", len(p)) + p for p in pngs)
    header = {
        "inputs": [
            {
                "name": "input",
                "shape": [6],
                "datatype": "BYTES",
                "parameters": {"binary_data_size": len(data)},
            }
        ],
        "outputs": [{"name": "label", "parameters": {"binary_data": False}}],
    }
    body, headers = binary_request(header, data)
    response = client.post("/v2/models/mnist-cnn/infer", content=body, headers=headers)
    assert ok(response)["outputs"][0]["data"] == expected
    encoded = [base64.b64encode(p).decode() for p in pngs]
    document = ok(infer(client, "mnist-cnn", {"inputs": [tensor(encoded, [6, 1], "BYTES")]}))
    assert outputs(document)["label"]["data"] == expected
    assert sum(e == str(label) for e, label in zip(expected, labels, strict=True)) >= 5


def test_classification_extension_top_k(client: TestClient) -> None:
    body = {
        "inputs": [tensor(IRIS_ROWS[:2], [2, 4])],
        "outputs": [{"name": "probabilities", "parameters": {"classification": 2}}],
    }
    document = ok(infer(client, "iris-logistic-regression", body))
    [output] = document["outputs"]
    assert (output["datatype"], output["shape"]) == ("BYTES", [2, 2])
    expected = native(client, "iris-logistic-regression", IRIS_ROWS[:2])
    for row, prediction in enumerate(expected):
        ranked = sorted(prediction["probabilities"].items(), key=lambda kv: -kv[1])[:2]
        labels = ["setosa", "versicolor", "virginica"]
        for k, (label, probability) in enumerate(ranked):
            score, index, name = output["data"][row * 2 + k].split(":")
            assert (name, int(index)) == (label, labels.index(label))
            assert float(score) == pytest.approx(probability, abs=1e-5)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"inputs": [tensor(IRIS_ROW, [1, 3])]}, "holds 4 values; its shape says 3"),
        ({"inputs": [tensor([1, 2, 3], [1, 3])]}, "does not fit the model"),
        ({"inputs": [tensor(IRIS_ROW, [1, 4], name="x")]}, "('x'): no column named so"),
        ({"inputs": [tensor(["a", "b", "c", "d"], [1, 4])]}, "FP32 takes numbers"),
        ({"inputs": [tensor([True, 1, 2, 3], [1, 4])]}, "FP32 takes numbers"),
        ({"inputs": [tensor([[1, 2], [3]], [1, 4])]}, "not a regular array"),
        ({"inputs": [tensor([5.5, 1, 1, 1], [1, 4], "INT32")]}, "INT32 takes integers"),
        ({"inputs": [tensor([300, 1, 1, 1], [1, 4], "UINT8")]}, "outside the range of UINT8"),
        ({"inputs": [tensor([1e300, 1, 1, 1], [1, 4])]}, "value 0 is inf; values must"),
        ({"inputs": [tensor([10**400, 1, 1, 1], [1, 4])]}, "outside the range of FP32"),
        ({"inputs": [tensor([7e4, 1, 1, 1], [1, 4], "FP16")]}, "value 0 is inf; values must"),
        ({"inputs": [tensor(IRIS_ROW, [1, 4], "BOOL")]}, "'BOOL' is not accepted"),
        ({"inputs": [tensor(IRIS_ROW, [1, 4], "BYTES")]}, "image models only"),
        ({"inputs": [tensor([], [0, 4])]}, "at least one row"),
        ({"inputs": []}, "inputs must be a list of 1 to 4 tensors"),
        ({"inputs": [tensor(IRIS_ROW, [1, 4])], "extra": 1}, "unknown field 'extra'"),
        ({"inputs": [tensor(IRIS_ROW, [1, 4])], "parameters": {"x": 1}}, "unknown field 'x'"),
        ({"inputs": [tensor(IRIS_ROW, [1, 4])], "outputs": [{"name": "y"}]}, "no output 'y'"),
        ({"inputs": [tensor(IRIS_ROW, [1, 4])], "id": 5}, "id must be a string"),
        (
            {
                "inputs": [tensor(IRIS_ROW, [1, 4])],
                "outputs": [{"name": "label", "parameters": {"classification": 2}}],
            },
            "classification applies to 'probabilities'",
        ),
        (
            {
                "inputs": [tensor(IRIS_ROW, [1, 4])],
                "outputs": [{"name": "probabilities", "parameters": {"classification": 4}}],
            },
            "from 1 to 3",
        ),
        ([1, 2], "the body must be a JSON object"),
    ],
)
def test_bad_input_gets_400_with_the_reason(client: TestClient, body: Any, message: str) -> None:
    assert message in error(infer(client, "iris-svm", body), 400)


def test_bad_binary_framing_gets_400(client: TestClient) -> None:
    row = np.array([IRIS_ROW], dtype="<f4").tobytes()
    header = {
        "inputs": [
            {
                "name": "input",
                "shape": [1, 4],
                "datatype": "FP32",
                "parameters": {"binary_data_size": 16},
            }
        ]
    }
    path = "/v2/models/iris-svm/infer"
    body, headers = binary_request(header, row[:12])
    assert "12 bytes follow" in error(client.post(path, content=body, headers=headers), 400)
    body, headers = binary_request(header, row)
    headers["Inference-Header-Content-Length"] = str(len(body) + 1)
    assert "the body has" in error(client.post(path, content=body, headers=headers), 400)
    headers["Inference-Header-Content-Length"] = "ten"
    assert "byte count" in error(client.post(path, content=body, headers=headers), 400)
    nan = np.array([[np.nan, 1, 1, 1]], dtype="<f4").tobytes()
    body, headers = binary_request(header, nan)
    assert "must be finite" in error(client.post(path, content=body, headers=headers), 400)


def test_unknown_model_version_and_limits(client: TestClient, quick_registry: Path) -> None:
    body = {"inputs": [tensor(IRIS_ROW, [1, 4])]}
    assert "No model 'nope'" in error(infer(client, "nope", body), 404)
    response = client.post("/v2/models/iris-svm/versions/7/infer", content=json.dumps(body))
    assert "No version 7" in error(response, 404)
    error(client.post("/v2/models/iris-svm/versions/0/infer", content=json.dumps(body)), 400)
    with make_client(quick_registry, max_batch_rows=2) as small:
        many = {"inputs": [tensor(IRIS_ROWS, [3, 4])]}
        assert "at most 2" in error(infer(small, "iris-svm", many), 413)
    response = client.get("/v2/models/iris-svm/infer")
    error(response, 405)
    assert response.headers["allow"] == "POST"


def test_repository_index_lists_every_version_failed_ones_with_reason(
    iris_registry: Path,
) -> None:
    broken = iris_registry / "iris-svm" / "2"
    broken.mkdir()
    (broken / "metadata.json").write_text("{}")
    with make_client(iris_registry) as client:
        index = client.post("/v2/repository/index").json()
        assert {"name": "iris-svm", "version": "1", "state": "READY", "reason": ""} in index
        [failed] = [entry for entry in index if entry["state"] != "READY"]
        assert failed["name"] == "iris-svm" and failed["version"] == "2"
        assert failed["state"] == "UNAVAILABLE" and "metadata.json is invalid" in failed["reason"]
        assert len(index) == 7
        ready = client.post("/v2/repository/index", json={"ready": True}).json()
        assert len(ready) == 6 and all(entry["state"] == "READY" for entry in ready)
        assert "ready" in error(client.post("/v2/repository/index", json={"x": 1}), 400)
        message = error(client.get("/v2/models/iris-svm/versions/2/ready"), 503)
        assert "failed to load" in message
        message = error(client.post("/v2/repository/models/iris-svm/load"), 400)
        assert "registry folder" in message


def test_large_binary_batch_equals_native(client: TestClient, mnist_dir: Path) -> None:
    """128 rows of FP32, 401 KB: converted and checked off the event loop, in a thread."""
    images, _ = mnist_digits(mnist_dir, 128)
    pixels = images.astype("<f4").tobytes()
    header = {
        "inputs": [
            {
                "name": "input",
                "shape": [128, 784],
                "datatype": "FP32",
                "parameters": {"binary_data_size": len(pixels)},
            }
        ],
        "outputs": [{"name": "class_index"}],
    }
    body, headers = binary_request(header, pixels)
    response = client.post("/v2/models/mnist-mlp/infer", content=body, headers=headers)
    expected = native(client, "mnist-mlp", images.reshape(128, -1).tolist())
    assert ok(response)["outputs"][0]["data"] == [p["class_index"] for p in expected]


def test_openapi_documents_the_v2_and_tf_serving_routes(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for path in (
        "/v2",
        "/v2/health/ready",
        "/v2/models/{name}/infer",
        "/v2/models/{name}/versions/{version}/infer",
        "/v2/repository/index",
        "/v1/models/{name}:predict",
        "/v1/models/{name}/versions/{version}:predict",
    ):
        assert path in document["paths"], path
    infer = document["paths"]["/v2/models/{name}/infer"]["post"]
    assert infer["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/V2InferenceRequest"
    }
    assert "V2InferenceResponse" in document["components"]["schemas"]


@pytest.mark.parametrize("count", [1, 100])
def test_binary_fp16_beyond_the_bounds_is_a_400(client: TestClient, count: int) -> None:
    """FP16 ends at 65504, short of the Iris bounds: an infinity in a small or a large batch
    is refused by value, not a crash."""
    rows = np.ones((count, 4), dtype="<f2")
    rows[-1, 2] = np.inf
    head = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": [count, 4],
                    "datatype": "FP16",
                    "parameters": {"binary_data_size": rows.nbytes},
                }
            ]
        }
    ).encode()
    response = client.post(
        "/v2/models/iris-knn/infer",
        content=head + rows.tobytes(),
        headers={"Inference-Header-Content-Length": str(len(head))},
    )
    assert f"row {count - 1}, value 2 is inf" in error(response, 400)
