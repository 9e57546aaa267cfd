"""JSON schemas of one version's request rows, built from its signature, for its OpenAPI
document (app/protocols/model_openapi.py).

A text column's `examples` are the categories seen when the version was made, most frequent
first, and `x-missing-value` the text that stands for a gap. The categories are not an `enum`:
a value never seen is passed on, and the model's encoder decides (app/registry/columns.py).
"""

from __future__ import annotations

from typing import Any

from app.registry.signature import Column, Signature

JSON_TYPES = {
    "float32": "number",
    "float64": "number",
    "int64": "integer",
    "string": "string",
    "bool": "boolean",
}
MAX_CATEGORIES = 100  # a column with thousands of ids gets the most frequent ones


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def may_be_missing(column: Column) -> bool:
    """Whether a row may hold null for this column (a bool column holds no gap, even optional)."""
    return column.optional and column.type != "bool"


def categories(column: Column) -> list[str]:
    """The values seen in a text column, most frequent first, without its missing marker."""
    seen = column.observed.categories if column.observed else None
    if not seen:
        return []
    marker = column.missing_value if may_be_missing(column) else None
    ranked = sorted(seen, key=lambda category: -seen[category])  # stable: ties keep their order
    return [category for category in ranked if category != marker][:MAX_CATEGORIES]


def _describe(column: Column) -> str:
    parts = [column.type + (f", in {column.unit}" if column.unit else "")]
    observed = column.observed
    if observed and observed.min is not None and observed.max is not None:
        parts.append(f"seen from {observed.min:g} to {observed.max:g}")
    if column.type == "string" and categories(column):
        parts.append(
            "seen: " + ", ".join(categories(column)[:10]) + "; a value never seen is passed to "
            "the model, whose encoder decides"
        )
    if may_be_missing(column):
        marker = column.missing_value
        as_text = f" (read as {marker!r})" if column.type == "string" and marker is not None else ""
        parts.append(f"may be missing: null{as_text}")
    return "; ".join(parts) + "."


def column_schema(column: Column) -> dict[str, Any]:
    """One value of a column: its JSON type (with null where it may be missing)."""
    kind = JSON_TYPES[column.type]
    schema: dict[str, Any] = {
        "type": [kind, "null"] if may_be_missing(column) else kind,
        "description": _describe(column),
    }
    if column.type == "string" and categories(column):
        schema["examples"] = categories(column)
    if column.type == "string" and may_be_missing(column) and column.missing_value is not None:
        schema["x-missing-value"] = column.missing_value  # the text a gap becomes, as sent
    if column.unit:
        schema["x-unit"] = column.unit
    return schema


def tabular_schemas(signature: Signature, example_row: dict[str, Any] | None) -> dict[str, Any]:
    """Row (a record), RowList (a list in signature order) and PredictRequest (every JSON form
    the native predict takes), for `components.schemas`."""
    names = signature.names
    columns = {column.name: column_schema(column) for column in signature.inputs}
    row: dict[str, Any] = {
        "type": "object",
        "description": "One row keyed by column name: every column, null where it may be missing.",
        "properties": columns,
        "required": names,
        "additionalProperties": False,
    }
    if example_row is not None:
        row["examples"] = [example_row]
    row_list = {
        "type": "array",
        "description": f"One row as a list, in this order: {', '.join(names)}.",
        "prefixItems": list(columns.values()),
        "minItems": len(names),
        "maxItems": len(names),
    }
    by_column = {
        "type": "object",
        "description": "Columns: one list of values per column, all of the same length.",
        "properties": {
            name: {"type": "array", "minItems": 1, "items": schema}
            for name, schema in columns.items()
        },
        "required": names,
        "additionalProperties": False,
    }
    split = {
        "type": "object",
        "description": "pandas' split orientation (MLflow): rows of values in the order of "
        "`columns` (in signature order when `columns` is left out); `index` is ignored.",
        "properties": {
            "columns": {"type": "array", "items": {"type": "string", "enum": names}},
            "data": {"type": "array", "minItems": 1, "items": {"type": "array"}},
            "index": {"type": "array"},
        },
        "required": ["data"],
        "additionalProperties": False,
    }
    rows = {"type": "array", "minItems": 1, "items": {"anyOf": [ref("Row"), ref("RowList")]}}
    forms = {
        "instances": rows,
        "inputs": by_column,
        "dataframe_split": split,
        "dataframe_records": {"type": "array", "minItems": 1, "items": ref("Row")},
    }
    return {"Row": row, "RowList": row_list, "PredictRequest": _one_of(forms)}


def image_schemas(signature: Signature) -> dict[str, Any]:
    """PredictRequest of an image model's JSON predict: pixels, flat or row by row."""
    column = signature.inputs[0]
    height, width = column.shape if len(column.shape) == 2 else [28, 28]
    low, high = (column.model_extra or {}).get("range", [0, 255])
    pixel = {"type": "number", "minimum": low, "maximum": high}
    flat = {
        "type": "array",
        "description": f"{height * width} pixel values, row by row",
        "items": pixel,
        "minItems": height * width,
        "maxItems": height * width,
    }
    line = {"type": "array", "items": pixel, "minItems": width, "maxItems": width}
    grid = {
        "type": "array",
        "description": f"{height} rows of {width} pixels",
        "items": line,
        "minItems": height,
        "maxItems": height,
    }
    rows = {"type": "array", "minItems": 1, "items": {"anyOf": [flat, grid]}}
    return {"PredictRequest": _one_of({"instances": rows})}


def _one_of(forms: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """One object with exactly one of these fields."""
    choices = [
        {
            "title": form,
            "type": "object",
            "properties": {form: schema},
            "required": [form],
            "additionalProperties": False,
        }
        for form, schema in forms.items()
    ]
    return choices[0] if len(choices) == 1 else {"oneOf": choices}
