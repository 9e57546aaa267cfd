"""Two converters of skl2onnx 1.20, mended for the time of one conversion (restored after):

- HistGradientBoosting: the converter writes each leaf's missing-value flag as a Python bool and
  each branch's as a NumPy integer; onnx refuses the mixed list ("Field
  onnx.AttributeProto.ints: Expected an int, got a boolean"). The flag is written as 0/1.
- SimpleImputer on double inputs: ONNX Runtime has no double kernel for the ai.onnx.ml Imputer,
  and the converter stores the fill values as float32; a pipeline that imputes in float64 is
  exported with IsNaN and Where in double precision, fill values exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


def _integer_flags(add_node: Any) -> Any:
    def add_node_with_integer_flag(*args: Any, **kwargs: Any) -> Any:
        flag = kwargs.get("nodes_missing_value_tracks_true")
        if flag is not None:
            kwargs["nodes_missing_value_tracks_true"] = int(flag)
        return add_node(*args, **kwargs)

    return add_node_with_integer_flag


def _double_imputer(original: Any) -> Any:
    from skl2onnx.common.data_types import DoubleTensorType
    from skl2onnx.operator_converters.common import concatenate_variables
    from skl2onnx.proto import onnx_proto

    def convert(scope: Any, operator: Any, container: Any) -> None:
        op = operator.raw_operator
        missing = op.missing_values
        numeric_nan = isinstance(missing, float) and np.isnan(missing)
        if not isinstance(operator.inputs[0].type, DoubleTensorType) or not numeric_nan:
            original(scope, operator, container)
            return
        features = concatenate_variables(scope, operator.inputs, container)
        fill = scope.get_unique_variable_name("fill")
        values = np.asarray(op.statistics_, dtype=np.float64)
        container.add_initializer(fill, onnx_proto.TensorProto.DOUBLE, [len(values)], values)
        gaps = scope.get_unique_variable_name("gaps")
        container.add_node(
            "IsNaN", [features], [gaps], name=scope.get_unique_operator_name("IsNaN")
        )
        container.add_node(
            "Where",
            [gaps, fill, features],
            [operator.outputs[0].full_name],
            name=scope.get_unique_operator_name("Where"),
        )

    return convert


@contextmanager
def mended() -> Iterator[None]:
    """skl2onnx with both repairs in place, for the duration of a conversion."""
    from skl2onnx.common import _registration, tree_ensemble

    pool = _registration._converter_pool
    saved_imputer = pool["SklearnSimpleImputer"]
    saved_add_node = tree_ensemble.add_node
    tree_ensemble.add_node = _integer_flags(saved_add_node)
    pool["SklearnSimpleImputer"] = _registration.RegisteredConverter(
        _double_imputer(saved_imputer._fct), saved_imputer.get_allowed_options()
    )
    try:
        yield
    finally:
        tree_ensemble.add_node = saved_add_node
        pool["SklearnSimpleImputer"] = saved_imputer
