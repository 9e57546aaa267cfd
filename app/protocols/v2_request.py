"""The Open Inference Protocol's infer requests: JSON tensors or the binary tensor data extension
in, a batch of rows (or encoded images) and the outputs asked for out.

Pure functions of bytes and arrays, importable without the model runtimes: large headers are
decoded in a worker process (app/core/compute.py). Binary tensors are read with np.frombuffer, no
copy, so a binary batch costs about what its header does.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

from app.core.columns import input_spec, matrix_columns
from app.errors import InvalidRequestError, PayloadTooLargeError
from app.protocols.native_codec import read_json, value_budget
from app.protocols.v2_columns import NUMERIC, TensorHeader, tensors_to_columns
from app.protocols.v2_matrix import MAX_DIMS, matrix, raw_row
from app.registry.signature import Signature
from app.registry.tensors import Columns

INPUT_NAME = "input"
CLASSIFIER_OUTPUTS = ("label", "class_index", "probabilities")
REGRESSOR_OUTPUTS = ("value",)
DATATYPES = ("BYTES", "BOOL", *NUMERIC)
REQUEST_FIELDS = frozenset({"id", "parameters", "inputs", "outputs", "model_name", "model_version"})
INPUT_FIELDS = frozenset({"name", "shape", "datatype", "parameters", "data"})
MAX_ID_CHARS = 256


@dataclass(frozen=True)
class RequestedOutput:
    """One output the response carries, in the order asked for."""

    name: str
    binary: bool
    classification: int = 0  # > 0: the top-k "score:index:label" strings instead


class InferRequest(NamedTuple):  # built per request: a tuple costs a fifth of a dataclass
    """A decoded infer request: the signature's columns, or encoded images to preprocess first."""

    id: str | None
    columns: Columns | None
    images: list[bytes] | None
    outputs: tuple[RequestedOutput, ...]


def _invalid(message: str) -> InvalidRequestError:
    return InvalidRequestError(message)


def _flag(value: Any, where: str) -> bool:
    if type(value) is not bool:
        raise _invalid(f"{where} must be true or false")
    return value


def _count(value: Any, where: str) -> int:
    if type(value) is not int or value < 0:
        raise _invalid(f"{where} must be a non-negative integer")
    return value


def _object(value: Any, where: str) -> dict[str, Any]:
    if type(value) is not dict:
        raise _invalid(f"{where} must be a JSON object")
    return value


def _known(document: dict[str, Any], allowed: frozenset[str], where: str) -> None:
    if type(document.get(CONTENT_TYPE, "")) is not str:
        raise _invalid(f"{where}.{CONTENT_TYPE} must be a string")
    if document.keys() <= allowed:
        return
    unknown = next(key for key in document if key not in allowed)
    shown = unknown if len(unknown) <= 64 else unknown[:64] + "..."
    raise _invalid(f"{where}: unknown field '{shown}'; known: {', '.join(sorted(allowed))}")


@cache
def all_outputs(names: tuple[str, ...], binary: bool) -> tuple[RequestedOutput, ...]:
    """What a request that names no outputs gets: all the task's, in order, JSON or binary."""
    return tuple(RequestedOutput(name, binary) for name in names)


OUTPUT_FIELDS = frozenset({"name", "parameters"})
# MLServer's clients name a codec in `content_type` ("pd" for the request, "str" or "np" for an
# input): taken and left aside, since the signature already says each column's type.
CONTENT_TYPE = "content_type"
OUTPUT_PARAMETERS = frozenset({"binary_data", "classification", CONTENT_TYPE})
REQUEST_PARAMETERS = frozenset({"binary_data_output", CONTENT_TYPE})
INPUT_PARAMETERS = frozenset({"binary_data_size", CONTENT_TYPE})


def read_outputs(
    document: dict[str, Any], binary_default: bool, names: tuple[str, ...], n_classes: int
) -> tuple[RequestedOutput, ...]:
    """The outputs a request asks for; all of them, in their usual order, when it names none."""
    asked = document.get("outputs")
    if asked is None or asked == []:
        return all_outputs(names, binary_default)
    if type(asked) is not list:
        raise _invalid('outputs must be a list of {"name": ...} objects')
    outputs: list[RequestedOutput] = []
    for index, item in enumerate(asked):
        item = _object(item, f"outputs[{index}]")
        _known(item, OUTPUT_FIELDS, f"outputs[{index}]")
        name = item.get("name")
        if name not in names:
            raise _invalid(
                f"outputs[{index}].name: no output {str(name)[:64]!r}; "
                f"the outputs are {', '.join(names)}"
            )
        if any(output.name == name for output in outputs):
            raise _invalid(f"outputs[{index}].name: '{name}' is asked for twice")
        parameters = _object(item.get("parameters", {}), f"outputs[{index}].parameters")
        _known(parameters, OUTPUT_PARAMETERS, f"outputs[{index}].parameters")
        binary = binary_default
        if "binary_data" in parameters:
            binary = _flag(parameters["binary_data"], f"outputs[{index}].parameters.binary_data")
        classes = 0
        if "classification" in parameters:
            classes = parameters["classification"]
            if name != "probabilities":
                raise _invalid(f"outputs[{index}]: classification applies to 'probabilities'")
            if type(classes) is not int or not 1 <= classes <= n_classes:
                raise _invalid(
                    f"outputs[{index}].parameters.classification must be an integer "
                    f"from 1 to {n_classes}"
                )
        outputs.append(RequestedOutput(name, binary, classes))
    return tuple(outputs)


def _shape(value: Any, where: str) -> list[int]:
    if (
        type(value) is not list
        or not 1 <= len(value) <= MAX_DIMS
        or any(type(size) is not int or size < 0 for size in value)
    ):
        raise _invalid(f"{where}.shape must be a list of 1 to {MAX_DIMS} non-negative integers")
    return value


def _tensor_header(
    item: Any, index: int, max_rows: int
) -> tuple[str, list[int], str, Any, int | None]:
    """One input's name, shape, datatype, JSON data and binary_data_size, checked."""
    where = f"inputs[{index}]"
    tensor = _object(item, where)
    _known(tensor, INPUT_FIELDS, where)
    name, shape, datatype = (
        tensor.get("name"),
        _shape(tensor.get("shape"), where),
        tensor.get("datatype"),
    )
    if type(name) is not str or not name:
        raise _invalid(f"{where}.name must be a non-empty string")
    if shape[0] == 0:
        raise _invalid(f"{where}.shape: a request needs at least one row")
    if shape[0] > max_rows:
        raise PayloadTooLargeError(f"{shape[0]} rows in one request; at most {max_rows}.")
    if type(datatype) is not str or datatype not in DATATYPES:
        raise _invalid(
            f"{where}.datatype: {str(datatype)[:16]!r} is not accepted; use one of "
            f"{', '.join(DATATYPES)}"
        )
    size = None
    if "parameters" in tensor:
        parameters = _object(tensor["parameters"], f"{where}.parameters")
        _known(parameters, INPUT_PARAMETERS, f"{where}.parameters")
        size = parameters.get("binary_data_size")
    if size is not None:
        size = _count(size, f"{where}.parameters.binary_data_size")
        if "data" in tensor:
            raise _invalid(f"{where} has both data and binary_data_size")
    elif "data" not in tensor:
        raise _invalid(f"{where} needs data, or parameters.binary_data_size")
    return name, shape, datatype, tensor.get("data"), size


def read_tensors(inputs: Any, binary: memoryview, most: int, max_rows: int) -> list[TensorHeader]:
    """The request's input tensors, each with its section of the binary data (in order)."""
    if type(inputs) is not list or not 1 <= len(inputs) <= most:
        raise _invalid(f"inputs must be a list of 1 to {most} tensors")
    headers = [_tensor_header(item, index, max_rows) for index, item in enumerate(inputs)]
    sizes = [size for *_, size in headers if size is not None]
    if sum(sizes) != len(binary):
        if not sizes:
            raise _invalid("binary data follows the JSON header, but no input has binary_data_size")
        raise _invalid(
            f"the inputs' binary_data_size add up to {sum(sizes)}; {len(binary)} bytes follow "
            "the JSON header"
        )
    tensors, offset = [], 0
    for index, (name, shape, datatype, data, size) in enumerate(headers):
        section = None
        if size is not None:
            section, offset = binary[offset : offset + size], offset + size
        tensors.append(TensorHeader(index, name, shape, datatype, data, section))
    return tensors


def output_names(signature: Signature) -> tuple[str, ...]:
    return CLASSIFIER_OUTPUTS if signature.classes is not None else REGRESSOR_OUTPUTS


def decode_infer(
    body: bytes, header_length: int | None, signature: Signature, max_rows: int
) -> InferRequest:
    """An infer body (JSON, or JSON then binary tensors) -> what the model is asked."""
    if header_length is None:
        header_length = len(body)
    if not 0 <= header_length <= len(body):
        raise _invalid(
            f"Inference-Header-Content-Length is {header_length}; the body has {len(body)} bytes"
        )
    binary = memoryview(body)[header_length:]
    names = output_names(signature)
    n_classes = len(signature.classes.labels) if signature.classes is not None else 0
    if header_length == 0:  # the raw binary request: one FP32 row, every output binary
        if not (signature.all_numbers or signature.is_image):
            raise _invalid("A raw binary request takes a model whose every input is a number")
        rows = raw_row(binary, input_spec(signature))
        return InferRequest(None, matrix_columns(signature, rows), None, all_outputs(names, True))
    document = _object(
        read_json(body[:header_length], value_budget(signature, max_rows)), "the body"
    )
    _known(document, REQUEST_FIELDS, "the body")
    request_id = document.get("id")
    if request_id is not None and (type(request_id) is not str or len(request_id) > MAX_ID_CHARS):
        raise _invalid(f"id must be a string of at most {MAX_ID_CHARS} characters")
    binary_default = False
    if "parameters" in document:
        parameters = _object(document["parameters"], "parameters")
        _known(parameters, REQUEST_PARAMETERS, "parameters")
        binary_default = _flag(parameters.get("binary_data_output", False), "binary_data_output")
    outputs = read_outputs(document, binary_default, names, n_classes)
    most = 1 if signature.is_image else len(signature.inputs)
    tensors = read_tensors(document.get("inputs"), binary, most, max_rows)
    first = tensors[0]
    if signature.is_image and first.name != INPUT_NAME:
        raise _invalid(f"inputs[0].name: the model's one input is named '{INPUT_NAME}'")
    if signature.is_image or (signature.all_numbers and first.name == INPUT_NAME):
        found = matrix(first, input_spec(signature))
        if isinstance(found, list):
            return InferRequest(request_id, None, found, outputs)
        return InferRequest(request_id, matrix_columns(signature, found), None, outputs)
    return InferRequest(
        request_id, tensors_to_columns(tensors, signature, INPUT_NAME), None, outputs
    )
