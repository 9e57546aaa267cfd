"""The input columns of an imported model: from the example/eval data, the model's own feature
names, or what an MLflow folder or ONNX graph declares; and the rows it is checked on."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from training import signature
from training.importers import ImportRefusedError, Original

DRAWN_ROWS = 300
SEED = 0


def read_table(path: Path) -> pd.DataFrame:
    """A CSV file with a header, or JSON records ([{"column": value, ...}, ...])."""
    try:
        if path.suffix.lower() == ".json":
            records = json.loads(path.read_text())
            frame = pd.DataFrame.from_records(records if isinstance(records, list) else [records])
        else:
            frame = pd.read_csv(path, keep_default_na=True)
    except Exception as exc:
        raise ImportRefusedError(f"cannot read {path}: {type(exc).__name__}: {exc}") from exc
    if frame.empty:
        raise ImportRefusedError(f"{path} holds no rows")
    return frame


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def matched(original: Original, frame: pd.DataFrame, where: str) -> pd.DataFrame:
    """The frame's columns in the model's order; refused when they are not the model's."""
    names = original.feature_names
    if names is None and original.declared_inputs:
        names = [column["name"] for column in original.declared_inputs]
    if names is not None:
        missing = [n for n in names if n not in frame.columns]
        extra = [str(c) for c in frame.columns if c not in names]
        if missing or extra:
            said = []
            if missing:
                said.append(f"lacks {', '.join(missing)}")
            if extra:
                said.append(f"has {', '.join(extra)} that the model does not take")
            raise ImportRefusedError(
                f"the columns of {where} do not match the model: it {' and '.join(said)}"
            )
        return frame[names]
    if original.n_features is not None and frame.shape[1] != original.n_features:
        raise ImportRefusedError(
            f"{where} has {frame.shape[1]} columns, the model takes {original.n_features}"
        )
    return frame


def placeholder(original: Original) -> pd.DataFrame:
    """Without any data: rows drawn from a standard normal for the model's numeric columns."""
    names = original.feature_names or [f"x{i}" for i in range(original.n_features or 0)]
    if not names:
        raise ImportRefusedError("the model does not say its columns: give --example FILE")
    rng = np.random.default_rng(SEED)
    return pd.DataFrame(rng.standard_normal((DRAWN_ROWS, len(names))), columns=names)


def accepts_gap(original: Original, frame: pd.DataFrame, name: str) -> bool:
    """Whether the original predicts a finite answer with this column missing."""
    row = frame.head(1).copy()
    row[name] = np.nan
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            answers = original.predict(row)
    except Exception:
        return False
    return all(
        np.isfinite(np.asarray(v, dtype=np.float64)).all()
        for k, v in answers.items()
        if k != "label"
    )


def inputs(original: Original, reference: pd.DataFrame) -> list[dict[str, Any]]:
    """The `inputs` of the signature, observed on `reference`."""
    declared = {c["name"]: c for c in original.declared_inputs or []}
    columns = []
    for name in reference.columns:
        values = reference[name]
        stated = declared.get(str(name), {})
        kind = stated.get("type") or signature.column_type(values)
        column = signature.input_column(str(name), values, kind, bool(stated.get("optional")))
        if stated.get("shape"):
            column["shape"] = list(stated["shape"])
            column["observed"] = {"rows": int(len(values)), "missing": 0}
        elif kind != "string" and not column["optional"]:
            column["optional"] = accepts_gap(original, reference, str(name))
        columns.append(column)
    return columns


def drawn(columns: list[dict[str, Any]], rows: int) -> pd.DataFrame:
    """Rows within the observed ranges and categories, with gaps where a column may have them."""
    rng = np.random.default_rng(SEED)
    frame = {}
    for column in columns:
        seen = column["observed"]
        if column["type"] in ("string", "bool") and seen.get("categories"):
            values: Any = rng.choice(list(seen["categories"]), rows)
            if column["type"] == "bool":
                values = values == "True"
        elif "min" in seen:
            values = rng.uniform(seen["min"], seen["max"], rows)
            if column["type"] == "int64":
                values = np.round(values)
        else:
            return pd.DataFrame()  # shaped or unobserved columns: nothing to draw from
        if column["optional"] and column["type"] != "bool":
            values = pd.Series(values, dtype=object if column["type"] == "string" else None)
            values[rng.random(rows) < 0.1] = np.nan
        frame[column["name"]] = values
    return pd.DataFrame(frame)
