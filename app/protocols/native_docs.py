"""The OpenAPI operations of the native data-plane routes, with their schemas and examples.

These routes are served by app/front/dispatch.py, not by FastAPI; their documentation is merged into
the app's OpenAPI document (ModelServer.openapi), from the same pydantic models.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from app.imaging.preprocess import MEDIA_TYPES
from app.registry.registry import NAME_PATTERN
from app.schemas import ErrorResponse, PredictRequest, PredictResponse

SCHEMAS: list[type[BaseModel]] = [PredictRequest, PredictResponse, ErrorResponse]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


NAME = {
    "name": "name",
    "in": "path",
    "required": True,
    "description": "Registry name",
    "schema": {"type": "string", "pattern": NAME_PATTERN.pattern},
    "example": "iris-svm",
}
VERSION = {
    "name": "version",
    "in": "path",
    "required": True,
    "description": "Integer version",
    "schema": {"type": "integer", "minimum": 1, "maximum": 2**31},
    "example": 1,
}
LABEL = {
    "name": "label",
    "in": "path",
    "required": True,
    "description": "A version label (production, staging, ...; see GET /v1/models/{name})",
    "schema": {"type": "string", "pattern": "^[a-z][a-z0-9-]{0,31}$"},
    "example": "production",
}
TOP_K = {
    "name": "top_k",
    "in": "query",
    "required": False,
    "description": "Only the k most probable classes' probabilities, most probable first",
    "schema": {"type": "integer", "minimum": 1},
    "example": 3,
}
PROBABILITIES = {
    "name": "probabilities",
    "in": "query",
    "required": False,
    "description": "false: the label and class index only",
    "schema": {"type": "boolean", "default": True},
    "example": False,
}
ERRORS = {
    "404": "Unknown model or version",
    "408": "The body did not arrive in time",
    "413": "Body, rows, images or pixels over their limits",
    "415": "Unsupported content type",
    "422": "Invalid rows or images, naming row and field; a bad name, version, body field or "
    "query parameter",
    "503": "The version failed to load, or the server is at its in-flight limit",
    "504": "The request outlived its deadline",
}
JSON_BODY = {
    "required": True,
    "content": {"application/json": {"schema": _ref(PredictRequest)}},
}
IMAGE_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "properties": {
                    "file": {"type": "array", "items": {"type": "string", "format": "binary"}}
                },
                "required": ["file"],
            }
        },
        **{t: {"schema": {"type": "string", "format": "binary"}} for t in MEDIA_TYPES},
    },
}


def _operation(
    operation_id: str,
    summary: str,
    description: str,
    body: dict[str, Any],
    pinned: dict[str, Any] | None,
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "200": {
            "description": "One prediction per row or image, in order",
            "headers": {
                "X-Model-Version": {
                    "description": "The version that answered",
                    "schema": {"type": "integer"},
                }
            },
            "content": {"application/json": {"schema": _ref(PredictResponse)}},
        }
    }
    for status, text in ERRORS.items():
        responses[status] = {
            "description": text,
            "content": {"application/json": {"schema": _ref(ErrorResponse)}},
        }
    return {
        "tags": ["predict"],
        "summary": summary,
        "description": description,
        "operationId": operation_id,
        "parameters": [NAME, *([pinned] if pinned else []), TOP_K, PROBABILITIES],
        "requestBody": body,
        "responses": responses,
    }


ROWS = "Score a batch of rows; one prediction per row, in order."
IMAGES = (
    "One or more images as multipart `file` parts, or one image as the raw body. Any size, "
    "greyscale/RGB/RGBA, dark-on-light or light-on-dark: each is turned into an MNIST-style "
    "28x28 digit first."
)
PREDICT_LATEST = _operation(
    "predict_latest",
    "Predict with the production version (else the latest)",
    ROWS,
    JSON_BODY,
    None,
)
PREDICT_VERSION = _operation(
    "predict_version", "Predict with one version", ROWS, JSON_BODY, VERSION
)
PREDICT_LABEL = _operation(
    "predict_label", "Predict with the version a label names", ROWS, JSON_BODY, LABEL
)
IMAGE_LATEST = _operation(
    "predict_image_latest",
    "Predict digits from images with the production version (else the latest)",
    IMAGES,
    IMAGE_BODY,
    None,
)
IMAGE_VERSION = _operation(
    "predict_image_version",
    "Predict digits from images with one version",
    IMAGES,
    IMAGE_BODY,
    VERSION,
)
IMAGE_LABEL = _operation(
    "predict_image_label",
    "Predict digits from images with the version a label names",
    IMAGES,
    IMAGE_BODY,
    LABEL,
)
PREPROCESS = {
    "tags": ["predict"],
    "summary": "See the digits a model sees",
    "description": "The same images as predict/image, each turned into the 28x28 MNIST-style "
    "digit the model is given, returned side by side in one greyscale PNG (28 pixels high, 28 "
    "wide per image, in order): for debugging what was sent. No model is run.",
    "operationId": "preprocess_image",
    "parameters": [NAME],
    "requestBody": IMAGE_BODY,
    "responses": {
        "200": {
            "description": "The preprocessed digits, side by side",
            "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}},
        },
        **{
            status: {
                "description": text,
                "content": {"application/json": {"schema": _ref(ErrorResponse)}},
            }
            for status, text in ERRORS.items()
        },
    },
}


def component_schemas() -> dict[str, Any]:
    """The JSON schemas the operations refer to, for `components.schemas`."""
    schemas: dict[str, Any] = {}
    for model in SCHEMAS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    return schemas
