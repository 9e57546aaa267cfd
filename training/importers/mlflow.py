"""MLflow model folders (an MLmodel file): the sklearn, xgboost, lightgbm, onnx or keras flavour
is read, with the folder's signature and input example when it has them."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pandas as pd

from training.importers import Export, ImportRefusedError, Original, boosters

FLAVOURS = ("sklearn", "xgboost", "lightgbm", "onnx", "keras")
TYPES = {
    "double": "float64",
    "float": "float32",
    "long": "int64",
    "integer": "int64",
    "boolean": "bool",
    "string": "string",
}


def _mlmodel(folder: Path) -> dict[str, Any]:
    import yaml

    try:
        document = yaml.safe_load((folder / "MLmodel").read_text())
    except Exception as exc:
        raise ImportRefusedError(f"cannot read {folder / 'MLmodel'}: {exc}") from exc
    if not isinstance(document, dict):
        raise ImportRefusedError(f"{folder / 'MLmodel'} is not an MLmodel document")
    return document


def read(folder: Path, task: str | None) -> tuple[Original, Export | None]:
    document = _mlmodel(folder)
    flavours = document.get("flavors") or {}
    flavour = next((f for f in FLAVOURS if f in flavours), None)
    if flavour is None:
        raise ImportRefusedError(
            f"{folder}: no flavour this can import (has {', '.join(flavours) or 'none'}; "
            f"wants one of {', '.join(FLAVOURS)})"
        )
    original, given = _load(folder, flavour, flavours[flavour], task)
    original.declared_inputs = _declared(document) or original.declared_inputs
    original.example = _example(folder, document)
    return original, given


def _load(
    folder: Path, flavour: str, conf: dict[str, Any], task: str | None
) -> tuple[Original, Export | None]:
    from training.importers import sources

    if flavour == "onnx":
        from training.importers import onnx

        return onnx.load(folder / conf.get("data", "model.onnx"), task)
    if flavour == "keras":
        from training.importers import keras

        found = sorted(folder.rglob("*.keras"))
        if not found:
            raise ImportRefusedError(f"{folder}: the keras flavour has no .keras file")
        return keras.read(found[0]), None
    if flavour == "sklearn":
        path = folder / conf.get("pickled_model", "model.pkl")
        if conf.get("serialization_format") == "skops" or path.suffix == ".skops":
            return sources.of_object(_skops(path), str(folder)), None
        return sources.of_object(_unpickled(path), str(folder)), None
    path = folder / conf.get("data", "model")
    model_class = str(conf.get("model_class", ""))
    if model_class.endswith("Booster"):
        return boosters.read_as(path, flavour), None
    if flavour == "xgboost":
        import xgboost

        wrapper = getattr(xgboost, model_class.rsplit(".", 1)[-1])()
        wrapper.load_model(path)
        return sources.of_object(wrapper, str(folder)), None
    return sources.of_object(_unpickled(path), str(folder)), None


def _skops(path: Path) -> Any:
    import skops.io

    return skops.io.load(path, trusted=skops.io.get_untrusted_types(file=path))


def _unpickled(path: Path) -> Any:
    """MLflow's cloudpickle file: unpickling runs its code, as any pickle's."""
    try:
        with path.open("rb") as handle:
            return pickle.load(handle)  # the user's own file, on their machine
    except Exception as exc:
        raise ImportRefusedError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc


def _declared(document: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The column signature's inputs, typed; None for a tensor signature or none at all."""
    raw = (document.get("signature") or {}).get("inputs")
    if not raw:
        return None
    declared = []
    for column in json.loads(raw):
        if column.get("type") not in TYPES or "name" not in column:
            return None
        declared.append(
            {
                "name": column["name"],
                "type": TYPES[column["type"]],
                "optional": not column.get("required", True),
            }
        )
    return declared


def _example(folder: Path, document: dict[str, Any]) -> pd.DataFrame | None:
    info = document.get("saved_input_example_info") or {}
    path = folder / info.get("artifact_path", "input_example.json")
    if not path.is_file():
        return None
    content = json.loads(path.read_text())
    if isinstance(content, dict):
        content = content.get("dataframe_split", content)
        if "columns" in content and "data" in content:
            return pd.DataFrame(content["data"], columns=content["columns"])
    return pd.DataFrame.from_records(content if isinstance(content, list) else [content])
