"""The OpenAPI operations of the Open Inference Protocol routes, with the protocol's schemas
(after ../shared/specs/open-inference-protocol/open_inference_rest.yaml), merged into the app's
OpenAPI document like the native routes' (ModelServer.openapi)."""

from __future__ import annotations

from typing import Any

from app.protocols.native_docs import NAME, VERSION
from app.protocols.v2_columns import NUMERIC

PARAMETERS = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
TENSOR_DATA: dict[str, Any] = {
    "type": "array",
    "items": {"anyOf": [{"type": "number"}, {"type": "string"}, {"type": "array"}]},
}
TENSOR_METADATA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "datatype": {"type": "string"},
        "shape": {"type": "array", "items": {"type": "integer"}},
    },
    "required": ["name", "datatype", "shape"],
}
SCHEMAS: dict[str, Any] = {
    "V2InferenceRequest": {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "parameters": {
                "type": "object",
                "properties": {"binary_data_output": {"type": "boolean"}},
                "additionalProperties": False,
            },
            "inputs": {
                "type": "array",
                "minItems": 1,
                "description": "One tensor named 'input' ([n, k] when every column shares a "
                "type; an image model's pixels or encoded images), or one [n] or [n, 1] tensor "
                "per column, named after it: see the model's metadata.",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "shape": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                        "datatype": {"type": "string", "enum": ["BYTES", "BOOL", *NUMERIC]},
                        "parameters": {
                            "type": "object",
                            "properties": {"binary_data_size": {"type": "integer"}},
                        },
                        "data": TENSOR_DATA,
                    },
                    "required": ["name", "shape", "datatype"],
                },
            },
            "outputs": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"enum": ["label", "class_index", "probabilities", "value"]},
                        "parameters": {
                            "type": "object",
                            "properties": {
                                "binary_data": {"type": "boolean"},
                                "classification": {"type": "integer", "minimum": 1},
                            },
                        },
                    },
                    "required": ["name"],
                },
            },
        },
        "required": ["inputs"],
        "example": {
            "id": "42",
            "inputs": [
                {"name": "input", "shape": [1, 4], "datatype": "FP32", "data": [5.1, 3.5, 1.4, 0.2]}
            ],
        },
    },
    "V2InferenceResponse": {
        "type": "object",
        "properties": {
            "model_name": {"type": "string"},
            "model_version": {"type": "string"},
            "id": {"type": "string"},
            "outputs": {
                "type": "array",
                "items": {
                    **TENSOR_METADATA,
                    "properties": {
                        **TENSOR_METADATA["properties"],
                        "parameters": PARAMETERS,
                        "data": TENSOR_DATA,
                    },
                },
            },
        },
        "required": ["model_name", "outputs"],
    },
    "V2ModelMetadata": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "versions": {"type": "array", "items": {"type": "string"}},
            "platform": {"type": "string"},
            "inputs": {"type": "array", "items": TENSOR_METADATA},
            "outputs": {"type": "array", "items": TENSOR_METADATA},
            "parameters": PARAMETERS,
        },
        "required": ["name", "platform", "inputs", "outputs"],
    },
    "V2ModelConfig": {
        "type": "object",
        "description": "Triton's model configuration (model_config.proto) as its HTTP API "
        "answers it: what perf_analyzer and Triton's tools read before anything else.",
        "properties": {
            "name": {"type": "string"},
            "platform": {"type": "string"},
            "backend": {"type": "string"},
            "max_batch_size": {"type": "integer"},
            "input": {"type": "array", "items": {"$ref": "#/components/schemas/V2ConfigTensor"}},
            "output": {"type": "array", "items": {"$ref": "#/components/schemas/V2ConfigTensor"}},
        },
        "required": ["name", "platform", "max_batch_size", "input", "output"],
    },
    "V2ConfigTensor": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "data_type": {"type": "string"},
            "dims": {"type": "array", "items": {"type": "integer"}},
            "reshape": {"type": "object"},
        },
        "required": ["name", "data_type", "dims"],
    },
    "V2ServerMetadata": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "version": {"type": "string"},
            "extensions": {"type": "array", "items": {"type": "string"}},
        },
        "required": ["name", "version", "extensions"],
    },
    "V2RepositoryIndex": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "version": {"type": "string"},
                "state": {"enum": ["READY", "UNAVAILABLE"]},
                "reason": {"type": "string"},
            },
            "required": ["name", "state", "reason"],
        },
    },
    "V2Error": {
        "type": "object",
        "properties": {"error": {"type": "string"}},
        "required": ["error"],
    },
}
ERRORS = {
    "400": "Bad input: body, tensor, shape, datatype or value (the message says which)",
    "404": "Unknown model or version",
    "405": "Method not allowed",
    "408": "The body did not arrive in time",
    "413": "Body, rows, images or pixels over their limits",
    "503": "Not ready: the version failed to load, or the server is at its in-flight limit",
    "504": "The request outlived its deadline",
}


def _json(schema: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}


# What each route is, by the end of its template: summary, response schema, request body.
KINDS: list[tuple[str, str, str, str | None]] = [
    ("/infer", "Infer (JSON or binary tensors)", "V2InferenceResponse", "V2InferenceRequest"),
    ("/health/live", "Server live", "V2Live", None),
    ("/health/ready", "Server ready", "V2Ready", None),
    ("/ready", "Model ready", "V2ModelReady", None),
    ("/config", "Model configuration (Triton's JSON form)", "V2ModelConfig", None),
    ("/repository/index", "Repository index", "V2RepositoryIndex", "V2IndexRequest"),
    ("/load", "Load a model (not supported: the registry folder decides)", "V2Error", None),
    ("/unload", "Unload a model (not supported: the registry folder decides)", "V2Error", None),
    ("/v2", "Server metadata", "V2ServerMetadata", None),
    ("/v2/", "Server metadata", "V2ServerMetadata", None),
    ("}", "Model metadata", "V2ModelMetadata", None),
]
SCHEMAS["V2ModelReady"] = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "ready": {"type": "boolean"}},
    "required": ["name", "ready"],
}
SCHEMAS["V2Live"] = {"type": "object", "properties": {"live": {"type": "boolean"}}}
SCHEMAS["V2Ready"] = {"type": "object", "properties": {"ready": {"type": "boolean"}}}
SCHEMAS["V2IndexRequest"] = {
    "type": "object",
    "properties": {"ready": {"type": "boolean"}},
    "additionalProperties": False,
}


def operation(template: str) -> dict[str, Any]:
    """The OpenAPI operation of the V2 route `template`."""
    summary, response, body = next(
        (summary, response, body)
        for suffix, summary, response, body in KINDS
        if template.endswith(suffix)
    )
    parameters = [p for key, p in (("{name}", NAME), ("{version}", VERSION)) if key in template]
    responses: dict[str, Any] = {"200": {"description": summary, "content": _json(response)}}
    if response == "V2InferenceResponse":
        responses["200"]["content"]["application/octet-stream"] = {
            "schema": {"type": "string", "format": "binary"}
        }
    for status, text in ERRORS.items():
        responses[status] = {"description": text, "content": _json("V2Error")}
    result: dict[str, Any] = {
        "tags": ["open inference protocol (v2)"],
        "summary": summary,
        "operationId": "v2" + template.replace("/", "_").replace("{", "").replace("}", ""),
        "parameters": parameters,
        "responses": responses,
    }
    if body is not None:
        result["requestBody"] = {"required": body == "V2InferenceRequest", "content": _json(body)}
    return result
