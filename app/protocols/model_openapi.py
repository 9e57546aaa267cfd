"""The OpenAPI document of one model version: its native predict routes, with the request rows
and the predictions typed from its signature (app/protocols/model_schemas.py) and its stored
example as the request example, in every form the route takes.

Served at GET /v1/models/{name}[/versions/{version}]/openapi.json (app/api/model_docs.py) and
listed in Swagger UI (/docs) beside the whole server's document.
"""

from __future__ import annotations

from typing import Any

from app.protocols import native_docs
from app.protocols.model_examples import csv_example, example_records, json_examples
from app.protocols.model_schemas import image_schemas, ref, tabular_schemas
from app.registry.registry import LoadedModel
from app.registry.signature import Signature

CSV_TEXT = {"schema": {"type": "string"}}
PROBABILITY = {"type": "number", "minimum": 0, "maximum": 1}


def _response_schemas(signature: Signature, name: str, version: int | None) -> dict[str, Any]:
    """Prediction and PredictResponse: a classifier's label, class index and probabilities by
    label, or a regressor's value; `version` None when the version that answers may change."""
    if signature.classes is not None and signature.task == "classification":
        labels = signature.classes.labels
        prediction: dict[str, Any] = {
            "type": "object",
            "properties": {
                "label": {"type": "string", "enum": labels},
                "class_index": {"type": "integer", "minimum": 0, "maximum": len(labels) - 1},
                "probabilities": {
                    "type": "object",
                    "description": "By class label; only the top_k most probable with ?top_k, "
                    "none with ?probabilities=false.",
                    "properties": dict.fromkeys(labels, PROBABILITY),
                    "additionalProperties": False,
                },
            },
            "required": ["label", "class_index"],
            "additionalProperties": False,
        }
    else:
        targets = signature.targets or []
        values = {"type": "array", "items": {"type": "number"}}
        if len(targets) > 1:
            value: dict[str, Any] = {**values, "minItems": len(targets), "maxItems": len(targets)}
            value["description"] = "One value per target: " + ", ".join(targets)
        elif targets:
            value = {"type": "number", "description": f"The predicted {targets[0]}"}
        else:
            value = {"anyOf": [{"type": "number"}, values]}
        prediction = {
            "type": "object",
            "properties": {"value": value},
            "required": ["value"],
            "additionalProperties": False,
        }
    answer = {
        "type": "object",
        "properties": {
            "model": {"type": "string", "const": name},
            "version": {"type": "integer", **({"const": version} if version else {})},
            "predictions": {"type": "array", "items": ref("Prediction")},
        },
        "required": ["model", "version", "predictions"],
        "additionalProperties": False,
    }
    return {"Prediction": prediction, "PredictResponse": answer}


def _responses(answers_csv: bool) -> dict[str, Any]:
    content: dict[str, Any] = {"application/json": {"schema": ref("PredictResponse")}}
    if answers_csv:
        content["text/csv"] = CSV_TEXT
    ok = {
        "description": "One prediction per row, in order (CSV with Accept: text/csv)"
        if answers_csv
        else "One prediction per row or image, in order",
        "headers": {
            "X-Model-Version": {
                "description": "The version that answered",
                "schema": {"type": "integer"},
            }
        },
        "content": content,
    }
    errors = {
        status: {
            "description": text,
            "content": {"application/json": {"schema": ref("ErrorResponse")}},
        }
        for status, text in native_docs.ERRORS.items()
    }
    return {"200": ok, **errors}


def _options(signature: Signature) -> list[dict[str, Any]]:
    """A classifier's query options (a regressor takes none), with no example values: Swagger
    UI's "Try it out" would send them."""
    if signature.classes is None or signature.task != "classification":
        return []
    limit = {"type": "integer", "minimum": 1, "maximum": len(signature.classes.labels)}
    options = [{**native_docs.TOP_K, "schema": limit}, native_docs.PROBABILITIES]
    return [{k: v for k, v in option.items() if k != "example"} for option in options]


def _predict(model: LoadedModel, records: list[Any]) -> dict[str, Any]:
    signature = model.signature
    content: dict[str, Any] = {
        "application/json": {
            "schema": ref("PredictRequest"),
            "examples": json_examples(signature, records),
        }
    }
    if not signature.is_image:
        content["text/csv"] = {
            **CSV_TEXT,
            "example": csv_example(signature.names, records),
        }
    forms = (
        "pixels, flat or row by row"
        if signature.is_image
        else (
            "rows (records or lists in signature order), columns, MLflow's dataframe_split or "
            "dataframe_records, or text/csv with a header row"
        )
    )
    return {
        "tags": [model.metadata.name],
        "summary": f"Predict with {model.metadata.name}",
        "description": f"{native_docs.ROWS} JSON: {forms}.",
        "operationId": "predict",
        "parameters": _options(signature),
        "requestBody": {"required": True, "content": content},
        "responses": _responses(not signature.is_image),
    }


def _image_operations(signature: Signature, name: str, base: str, pinned: bool) -> dict[str, Any]:
    image = {
        "tags": [name],
        "summary": f"Predict digits from images with {name}",
        "description": native_docs.IMAGES,
        "operationId": "predict_image",
        "parameters": _options(signature),
        "requestBody": native_docs.IMAGE_BODY,
        "responses": _responses(False),
    }
    paths = {f"{base}/predict/image": {"post": image}}
    if not pinned:  # the preprocessing route has no pinned form
        preprocess = {**native_docs.PREPROCESS, "tags": [name], "parameters": []}
        paths[f"/v1/models/{name}/preprocess/image"] = {"post": preprocess}
    return paths


def model_document(
    model: LoadedModel, rows: list[Any] | None, pinned: bool, openapi_version: str
) -> dict[str, Any]:
    """The document of `model`, at its pinned path (/versions/{v}) or its unpinned one (the
    version that answers now), with `rows` (its stored example) as the request examples."""
    metadata, signature = model.metadata, model.signature
    name, version = metadata.name, metadata.version
    base = f"/v1/models/{name}" + (f"/versions/{version}" if pinned else "")
    records = example_records(signature, rows)
    paths: dict[str, Any] = {f"{base}/predict": {"post": _predict(model, records)}}
    if signature.is_image:
        paths.update(_image_operations(signature, name, base, pinned))
        schemas = image_schemas(signature)
    else:
        schemas = tabular_schemas(signature, records[0])
    schemas.update(_response_schemas(signature, name, version if pinned else None))
    errors = native_docs.component_schemas()
    schemas.update({key: errors[key] for key in ("ErrorResponse", "ErrorBody")})
    answers = (
        "This version" if pinned else f"Version {version}, the one unpinned requests go to now,"
    )
    return {
        "openapi": openapi_version,
        "info": {
            "title": f"{name} version {version}",
            "version": str(version),
            "description": f"{answers} is a {signature.task} model ({metadata.algorithm}, "
            f"{metadata.framework}). Its requests and predictions are typed from its "
            "signature; the whole server's API is at /openapi.json.",
        },
        "tags": [{"name": name, "description": f"{signature.task}: {metadata.dataset}"}],
        "paths": paths,
        "components": {"schemas": schemas},
    }
