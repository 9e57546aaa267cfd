"""GET /v1/models/{name}[/versions/{version}]/openapi.json: a valid OpenAPI document per model,
typed from its signature, whose own examples predict and whose answers fit its schemas."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.helpers import make_client
from tests.tabular_models import TabularModels


@pytest.fixture(scope="module")
def tabular(tabular_models: TabularModels) -> Iterator[TestClient]:
    with make_client(tabular_models.registry) as client:
        yield client


def document(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    spec: dict[str, Any] = response.json()
    validate(spec)  # the OpenAPI 3.1 schema, and every $ref resolves
    return spec


def schema(spec: dict[str, Any], name: str) -> Draft202012Validator:
    """A validator for one of the document's component schemas, its $refs resolved."""
    root = {"$ref": f"#/components/schemas/{name}", "components": spec["components"]}
    return Draft202012Validator(root)


def post_examples(client: TestClient, spec: dict[str, Any], path: str) -> list[Any]:
    """Every example of the operation posted to it: each fits the request schema and gets a
    200 whose body fits the response schema; the answers, in order."""
    body = spec["paths"][path]["post"]["requestBody"]["content"]
    answers = []
    for example in body["application/json"]["examples"].values():
        schema(spec, "PredictRequest").validate(example["value"])
        response = client.post(path, json=example["value"])
        assert response.status_code == 200, (example, response.text)
        schema(spec, "PredictResponse").validate(response.json())
        answers.append(response.json()["predictions"])
    if "text/csv" in body:
        response = client.post(
            path, content=body["text/csv"]["example"], headers={"Content-Type": "text/csv"}
        )
        assert response.status_code == 200, response.text
        schema(spec, "PredictResponse").validate(response.json())
        answers.append(response.json()["predictions"])
    return answers


def test_churn_columns_are_typed_from_the_signature(tabular: TestClient) -> None:
    spec = document(tabular, "/v1/models/churn/openapi.json")
    assert spec["openapi"] == tabular.get("/openapi.json").json()["openapi"]
    row = spec["components"]["schemas"]["Row"]
    columns = row["properties"]
    assert list(columns) == ["city", "plan", "age", "visits"]  # signature order
    assert columns["city"]["type"] == ["string", "null"]  # may be missing
    assert columns["plan"]["type"] == "string"
    assert columns["age"]["type"] == ["number", "null"] and columns["age"]["x-unit"] == "years"
    assert columns["visits"]["type"] == "integer"
    # Categories seen are examples, not an enum: an unseen city is passed on to the model.
    assert (
        columns["city"]["examples"] == ["paris", "lyon", "nice"] and "enum" not in columns["city"]
    )
    assert columns["city"]["x-missing-value"] == ""  # what the training data wrote for a gap
    assert row["required"] == list(columns) and row["additionalProperties"] is False
    assert (
        row["examples"][0]
        == spec["paths"]["/v1/models/churn/predict"]["post"]["requestBody"]["content"][
            "application/json"
        ]["examples"]["records"]["value"]["instances"][0]
    )
    prediction = spec["components"]["schemas"]["Prediction"]["properties"]
    assert prediction["label"]["enum"] == ["no", "yes"]
    assert list(prediction["probabilities"]["properties"]) == ["no", "yes"]
    unseen = {**row["examples"][0], "city": "oslo"}
    assert tabular.post("/v1/models/churn/predict", json={"instances": [unseen]}).status_code == 200


def test_churn_examples_in_every_form_predict_the_same(tabular: TestClient) -> None:
    spec = document(tabular, "/v1/models/churn/openapi.json")
    parameters = spec["paths"]["/v1/models/churn/predict"]["post"]["parameters"]
    assert [p["name"] for p in parameters] == ["top_k", "probabilities"]
    answers = post_examples(tabular, spec, "/v1/models/churn/predict")
    assert len(answers) == 6  # records, lists, columns, dataframe_split, dataframe_records, CSV
    assert all(answer == answers[0] for answer in answers)


def test_regressor_answers_a_value(tabular: TestClient) -> None:
    spec = document(tabular, "/v1/models/spend/versions/1/openapi.json")
    path = "/v1/models/spend/versions/1/predict"
    assert list(spec["paths"]) == [path]
    assert spec["paths"][path]["post"]["parameters"] == []  # a regressor takes no options
    value = spec["components"]["schemas"]["Prediction"]["properties"]["value"]
    assert value["type"] == "number"
    assert spec["components"]["schemas"]["PredictResponse"]["properties"]["version"]["const"] == 1
    assert all(len(answer) == 5 for answer in post_examples(tabular, spec, path))


def test_unknown_model_or_version_is_a_404_in_the_native_shape(tabular: TestClient) -> None:
    response = tabular.get("/v1/models/nope/openapi.json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    response = tabular.get("/v1/models/churn/versions/9/openapi.json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "version_not_found"


def test_the_server_document_lists_the_per_model_routes(tabular: TestClient) -> None:
    paths = tabular.get("/openapi.json").json()["paths"]
    assert "/v1/models/{name}/openapi.json" in paths
    assert "/v1/models/{name}/versions/{version}/openapi.json" in paths


def test_an_example_changed_on_disk_is_not_shown(
    tabular_models: TabularModels, tmp_path: Path
) -> None:
    registry = tmp_path / "models"
    shutil.copytree(tabular_models.registry / "churn", registry / "churn")
    with make_client(registry) as client:
        (registry / "churn" / "1" / "example.json").write_text('[{"city": "evil"}]')
        spec = document(client, "/v1/models/churn/openapi.json")
        records = spec["components"]["schemas"]["Row"]["examples"]
        assert records[0]["city"] != "evil"  # rows made up from the signature instead
        post_examples(client, spec, "/v1/models/churn/predict")


@pytest.mark.parametrize("name", ["iris-svm", "mnist-cnn"])
def test_built_in_models_have_a_document_whose_examples_predict(
    client: TestClient, name: str
) -> None:
    spec = document(client, f"/v1/models/{name}/openapi.json")
    post_examples(client, spec, f"/v1/models/{name}/predict")
    labels = spec["components"]["schemas"]["Prediction"]["properties"]["label"]["enum"]
    if name.startswith("mnist"):
        assert labels == [str(digit) for digit in range(10)]
        assert f"/v1/models/{name}/predict/image" in spec["paths"]
        assert f"/v1/models/{name}/preprocess/image" in spec["paths"]
    else:
        assert labels == ["setosa", "versicolor", "virginica"]
        assert list(spec["components"]["schemas"]["Row"]["properties"]) == [
            "sepal_length",
            "sepal_width",
            "petal_length",
            "petal_width",
        ]
