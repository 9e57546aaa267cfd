"""A Pipeline whose preprocessing computes in float64 and whose last step is a tree model that
compares in float32 (scikit-learn's trees cast their input to float32): exported as two graphs
joined by a Cast, so the export rounds where scikit-learn does. Converted in one precision, a
ColumnTransformer feeding a forest moved probabilities by up to 0.2 here, on rows whose scaled
value sat on a split threshold."""

from __future__ import annotations

from typing import Any

OPSETS = {"": 18, "ai.onnx.ml": 3}
FLOAT32_TREES = (
    "DecisionTreeClassifier",
    "DecisionTreeRegressor",
    "RandomForestClassifier",
    "RandomForestRegressor",
    "ExtraTreesClassifier",
    "ExtraTreesRegressor",
    "GradientBoostingClassifier",
    "GradientBoostingRegressor",
)


def applies(estimator: Any) -> bool:
    steps: list[Any] = getattr(estimator, "steps", [])
    return len(steps) > 1 and type(steps[-1][1]).__name__ in FLOAT32_TREES


def convert(estimator: Any, initial_types: list[tuple[str, Any]], options: Any) -> Any:
    """The preprocessing in double, a Cast to float, the tree model in float: one ONNX model."""
    import onnx
    from onnx import TensorProto, compose, helper
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType
    from sklearn.pipeline import Pipeline

    preprocessing = Pipeline(estimator.steps[:-1])
    final = estimator.steps[-1][1]
    first = to_onnx(preprocessing, initial_types=initial_types, target_opset=OPSETS)
    (features,) = first.graph.output
    width = features.type.tensor_type.shape.dim[1].dim_value or final.n_features_in_
    cast = helper.make_node("Cast", [features.name], ["features_float32"], to=TensorProto.FLOAT)
    first.graph.node.append(cast)
    del first.graph.output[:]
    first.graph.output.append(
        helper.make_tensor_value_info("features_float32", TensorProto.FLOAT, [None, width])
    )
    final_options = {id(final): options[id(estimator.steps[-1][1])]} if options else None
    second = to_onnx(
        final,
        initial_types=[("features", FloatTensorType([None, width]))],
        options=final_options,
        target_opset=OPSETS,
    )
    second = compose.add_prefix(second, "trees_", rename_outputs=False)
    merged = compose.merge_models(first, second, io_map=[("features_float32", "trees_features")])
    onnx.checker.check_model(merged)
    return merged
