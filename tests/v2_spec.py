"""V2 responses checked against the Open Inference Protocol's own OpenAPI document, the
reference copy in ../shared/specs/open-inference-protocol/ (its component schemas, validated
with jsonschema: the document's path templates, ${MODEL_NAME}, are not OpenAPI's)."""

from __future__ import annotations

import copy
import struct
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import yaml

SPEC = Path(__file__).resolve().parent.parent.parent / "shared" / "specs"
OPEN_INFERENCE = SPEC / "open-inference-protocol" / "open_inference_rest.yaml"


@cache
def _components() -> dict[str, Any]:
    return yaml.safe_load(OPEN_INFERENCE.read_text())["components"]  # type: ignore[no-any-return]


def validate(document: Any, schema: str, binary: bool = False) -> None:
    """Raise unless `document` is a valid `schema` of the spec. With binary outputs (the
    binary tensor data extension), an output carries parameters.binary_data_size in place of
    data; everything else is checked as the spec says."""
    components = _components()
    if binary:
        components = copy.deepcopy(components)
        components["schemas"]["response_output"]["required"].remove("data")
        for output in document["outputs"]:
            assert ("data" in output) != ("binary_data_size" in output.get("parameters", {}))
    jsonschema.validate(
        document, {"$ref": f"#/components/schemas/{schema}", "components": components}
    )


def split_binary(body: bytes, header_length: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A binary infer response -> (its JSON header, each output's values by name)."""
    import orjson

    header = orjson.loads(body[:header_length])
    values: dict[str, Any] = {}
    offset = header_length
    for output in header["outputs"]:
        size = output.get("parameters", {}).get("binary_data_size")
        if size is None:
            values[output["name"]] = output["data"]
            continue
        data = body[offset : offset + size]
        offset += size
        if output["datatype"] == "BYTES":
            items, at = [], 0
            while at < len(data):
                (length,) = struct.unpack_from("<I", data, at)
                items.append(data[at + 4 : at + 4 + length].decode())
                at += 4 + length
            values[output["name"]] = items
        else:
            dtype = {"FP32": "<f4", "INT64": "<i8"}[output["datatype"]]
            values[output["name"]] = np.frombuffer(data, dtype).reshape(output["shape"])
    assert offset == len(body)
    return header, values
