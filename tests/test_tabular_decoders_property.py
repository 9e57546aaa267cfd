"""The signature's decoders, whatever the body: columns that fit the signature, or a 4xx."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.errors import ServiceError
from app.protocols.csv_codec import decode_csv
from app.protocols.native_request import decode_instances
from app.protocols.tfserving import decode_predict
from app.protocols.v2_request import decode_infer
from app.registry.signature import read_signature
from tests.tabular_models import CLASSIFIER_COLUMNS, signature

CHURN = read_signature({"signature": signature(CLASSIFIER_COLUMNS, "classification")})
NAMES = [*CLASSIFIER_COLUMNS, "other"]
cells = (
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers(-(2**70), 2**70)
    | st.text(max_size=6)
)
json_values = st.recursive(
    cells,
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=30,
)
records = st.lists(
    st.dictionaries(st.sampled_from(NAMES), cells, max_size=5)
    | st.lists(cells, min_size=3, max_size=5)
    | json_values,
    min_size=1,
    max_size=6,
)
bodies = st.one_of(
    st.fixed_dictionaries({"instances": records}),
    st.fixed_dictionaries({"dataframe_records": records}),
    st.fixed_dictionaries(
        {"inputs": st.dictionaries(st.sampled_from(NAMES), st.lists(cells, max_size=4))}
    ),
    st.fixed_dictionaries(
        {
            "dataframe_split": st.fixed_dictionaries(
                {"data": st.lists(st.lists(cells, max_size=5), max_size=4)},
                optional={"columns": st.lists(st.sampled_from(NAMES), max_size=5) | json_values},
            )
        }
    ),
    json_values,
)


def _check(columns: Any) -> None:
    assert set(columns) == set(CLASSIFIER_COLUMNS)
    rows = {len(values) for values in columns.values()}
    assert len(rows) == 1 and rows.pop() >= 1
    assert np.isfinite(columns["visits"].astype(np.float64)).all()
    assert all(type(value) is str for value in columns["city"].tolist())


@given(bodies)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_native_json_bodies_decode_or_fail_cleanly(document: Any) -> None:
    try:
        columns = decode_instances(json.dumps(document).encode(), CHURN, max_rows=5)
    except ServiceError as exc:
        assert 400 <= exc.status_code < 500 and str(exc)
        return
    _check(columns)


@given(bodies)
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_tf_serving_bodies_with_a_signature_decode_or_fail_cleanly(document: Any) -> None:
    try:
        columns, images, _ = decode_predict(json.dumps(document).encode(), CHURN, max_rows=5)
    except ServiceError as exc:
        assert 400 <= exc.status_code < 500 and str(exc)
        return
    assert images is None
    _check(columns)


csv_cells = st.text(alphabet=st.sampled_from('ab1.5-e,"\n\r x'), max_size=6) | st.sampled_from(
    ["", "3", "2.5", "nan", "inf", "1e400", "true", "paris"]
)


@given(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=5),
    st.lists(st.lists(csv_cells, min_size=3, max_size=5), max_size=6),
    st.binary(max_size=20),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_csv_bodies_decode_or_fail_cleanly(header: list[str], rows: Any, noise: bytes) -> None:
    lines = [",".join(header), *(",".join(row) for row in rows)]
    for body in ("\n".join(lines).encode(), noise, "\n".join(lines).encode() + noise):
        try:
            columns = decode_csv(body, CHURN, max_rows=5)
        except ServiceError as exc:
            assert 400 <= exc.status_code < 500 and str(exc)
            continue
        _check(columns)


v2_tensors = st.fixed_dictionaries(
    {
        "name": st.sampled_from([*NAMES, "input"]),
        "shape": st.sampled_from([[1], [2], [2, 1], [1, 4], [2, 4], [0]]) | json_values,
        "datatype": st.sampled_from(["BYTES", "BOOL", "FP32", "FP64", "INT64", "INT8", "UINT64"]),
    },
    optional={
        "data": st.lists(cells, max_size=8) | json_values,
        "parameters": st.fixed_dictionaries({"binary_data_size": st.integers(0, 24)}),
    },
)


@given(
    st.fixed_dictionaries({"inputs": st.lists(v2_tensors, min_size=1, max_size=5)}),
    st.binary(max_size=48),
)
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_v2_tensors_by_column_decode_or_fail_cleanly(document: Any, binary: bytes) -> None:
    header = json.dumps(document).encode()
    try:
        request = decode_infer(header + binary, len(header), CHURN, max_rows=5)
    except ServiceError as exc:
        assert 400 <= exc.status_code < 500 and str(exc)
        return
    assert request.images is None
    _check(request.columns)
