"""Property-based tests: whatever arrives, the decoders answer with an array or a 4xx error."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from app.core.inputs import to_batch
from app.errors import InvalidImageError, InvalidInputError, PayloadTooLargeError, ServiceError
from app.imaging.preprocess import preprocess
from app.protocols.tfserving import decode_predict
from app.protocols.v2_request import decode_infer
from app.registry.signature import Signature, read_signature
from app.schemas import InputSpec

IRIS = InputSpec.model_validate(
    {
        "kind": "tabular",
        "n_features": 4,
        "features": [
            {"name": n} for n in ("sepal_length", "sepal_width", "petal_length", "petal_width")
        ],
    }
)
DIGITS = InputSpec.model_validate(
    {"kind": "image", "n_features": 784, "shape": [28, 28], "range": [0, 255]}
)
SIGNATURES = {
    "iris": read_signature({"input": IRIS.model_dump(), "class_labels": ["a", "b", "c"]}),
    "digits": read_signature({"input": DIGITS.model_dump(), "class_labels": ["a", "b"]}),
}
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.integers()
    | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=6)
    | st.dictionaries(st.text(max_size=12), inner, max_size=5),
    max_leaves=40,
)
iris_like_rows = st.lists(
    st.one_of(
        st.lists(st.floats() | st.integers(), min_size=3, max_size=5),
        st.dictionaries(
            st.sampled_from([f.name for f in IRIS.features or []] + ["x"]),
            st.floats() | st.integers(),
            max_size=5,
        ),
        json_values,
    ),
    min_size=1,
    max_size=8,
)


def _check_batch(instances: list[Any], spec: InputSpec) -> None:
    try:
        batch = to_batch(instances, spec, max_rows=5)
    except (InvalidInputError, PayloadTooLargeError) as exc:
        assert str(exc)
        return
    assert batch.shape == (len(instances), spec.n_features)
    assert np.isfinite(batch).all()
    low, high = spec.range or [-1e6, 1e6]
    assert ((batch >= low) & (batch <= high)).all()


@given(iris_like_rows)
@settings(max_examples=300, deadline=None)
def test_tabular_rows_decode_or_fail_cleanly(instances: list[Any]) -> None:
    _check_batch(instances, IRIS)


@given(
    st.lists(
        st.one_of(
            st.lists(st.integers(-5, 260) | st.floats(), min_size=784, max_size=784),
            st.lists(
                st.lists(st.integers(0, 255), min_size=28, max_size=28), min_size=27, max_size=29
            ),
            json_values,
        ),
        min_size=1,
        max_size=3,
    )
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
def test_image_rows_decode_or_fail_cleanly(instances: list[Any]) -> None:
    _check_batch(instances, DIGITS)


def _check_image(data: bytes) -> None:
    try:
        digit = preprocess(data, max_pixels=1_000_000)
    except (InvalidImageError, PayloadTooLargeError) as exc:
        assert str(exc)
        return
    assert digit.shape == (28, 28)
    assert digit.min() >= 0 and digit.max() <= 255 and digit.max() > 0


@given(st.binary(max_size=2048))
@settings(max_examples=300, deadline=None)
def test_arbitrary_bytes_decode_or_fail_cleanly(data: bytes) -> None:
    _check_image(data)


@given(
    st.integers(1, 40),
    st.integers(1, 40),
    st.sampled_from(["L", "RGB", "RGBA", "P", "1", "LA"]),
    st.sampled_from(["PNG", "GIF", "BMP", "WEBP", "JPEG"]),
    st.randoms(use_true_random=False),
    st.integers(0, 400),
)
@settings(max_examples=150, deadline=None)
def test_generated_images_decode_or_fail_cleanly(
    width: int,
    height: int,
    mode: str,
    image_format: str,
    rng: Any,
    cut: int,
) -> None:
    pixels = np.array([rng.randrange(256) for _ in range(width * height * 4)], dtype=np.uint8)
    image = Image.fromarray(pixels.reshape(height, width, 4), "RGBA").convert(mode)
    buffer = io.BytesIO()
    try:
        image.save(buffer, image_format)
    except OSError:  # not every format stores every mode (JPEG has no alpha, BMP no LA)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, image_format)
    data = buffer.getvalue()
    _check_image(data)
    _check_image(data[: len(data) - cut] if cut < len(data) else data[:1])


def _small_images() -> list[bytes]:
    """A 40x30 picture in each format and variant whose headers probe reads."""
    picture = Image.new("RGB", (40, 30), "white")
    picture.paste((0, 0, 0), (15, 10, 25, 20))
    variants = [
        (picture, "PNG", {}),
        (picture.convert("P"), "PNG", {"transparency": 0}),
        (picture, "JPEG", {}),
        (picture, "JPEG", {"progressive": True}),
        (picture.convert("CMYK"), "JPEG", {}),
        (picture.convert("P"), "GIF", {}),
        (picture, "BMP", {}),
        (picture, "WEBP", {}),
        (picture.convert("RGBA"), "WEBP", {"lossless": True}),
    ]
    encoded = []
    for image, image_format, options in variants:
        buffer = io.BytesIO()
        image.save(buffer, image_format, **options)
        encoded.append(buffer.getvalue())
    return encoded


SMALL_IMAGES = _small_images()


@given(
    st.sampled_from(SMALL_IMAGES),
    st.lists(st.tuples(st.integers(0, 4096), st.integers(0, 255)), min_size=1, max_size=6),
)
@settings(max_examples=300, deadline=None)
def test_images_with_corrupted_bytes_decode_or_fail_cleanly(
    data: bytes, changes: list[tuple[int, int]]
) -> None:
    corrupted = bytearray(data)
    for position, value in changes:
        # Mostly in the first hundred bytes, where the headers that probe reads are.
        corrupted[position % min(len(data), 128 if value % 2 else len(data))] = value
    _check_image(bytes(corrupted))


v2_tensors = st.fixed_dictionaries(
    {
        "name": st.sampled_from(["input", "x"]),
        "shape": st.lists(st.integers(-1, 6), max_size=4) | json_values,
        "datatype": st.sampled_from(["FP32", "FP16", "INT8", "UINT8", "UINT64", "BYTES", "BOOL"])
        | json_values,
    },
    optional={
        "data": json_values | st.lists(st.floats() | st.integers(), max_size=30),
        "parameters": st.dictionaries(
            st.sampled_from(["binary_data_size", "x"]), st.integers(-4, 40) | json_values
        ),
    },
)
v2_bodies = st.fixed_dictionaries(
    {"inputs": st.lists(v2_tensors, max_size=2) | json_values},
    optional={
        "id": json_values,
        "outputs": json_values
        | st.lists(
            st.fixed_dictionaries(
                {"name": st.sampled_from(["label", "probabilities", "y"])},
                optional={"parameters": json_values},
            ),
            max_size=3,
        ),
        "parameters": json_values,
    },
)


@given(v2_bodies, st.binary(max_size=40), st.booleans(), st.sampled_from(["iris", "digits"]))
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_v2_infer_bodies_decode_or_fail_cleanly(
    document: Any, binary: bytes, with_binary: bool, which: str
) -> None:
    signature, spec = SIGNATURES[which], IRIS if which == "iris" else DIGITS
    header = json.dumps(document).encode()
    body, length = (header + binary, len(header)) if with_binary else (header, None)
    try:
        request = decode_infer(body, length, signature, max_rows=5)
    except ServiceError as exc:
        assert 400 <= exc.status_code < 500 and str(exc)
        return
    if request.columns is not None:
        rows = np.column_stack([np.asarray(v, dtype=float) for v in request.columns.values()])
        assert rows.shape[1] == spec.n_features and 1 <= len(rows) <= 5
        low, high = spec.range or [-1e6, 1e6]
        assert ((rows >= low) & (rows <= high)).all()
    else:
        assert spec.kind == "image" and request.images is not None


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "instances": iris_like_rows | json_values,
            "inputs": json_values
            | st.dictionaries(
                st.sampled_from([f.name for f in IRIS.features or []] + ["input"]),
                st.lists(st.floats() | st.integers(), max_size=3) | json_values,
            ),
            "signature_name": json_values,
        },
    ),
    st.sampled_from(sorted(SIGNATURES)),
)
@settings(max_examples=300, deadline=None)
def test_tf_serving_bodies_decode_or_fail_cleanly(document: Any, which: str) -> None:
    signature: Signature = SIGNATURES[which]
    try:
        rows, images, _ = decode_predict(json.dumps(document).encode(), signature, max_rows=5)
    except ServiceError as exc:
        assert 400 <= exc.status_code < 500 and str(exc)
        return
    assert (rows is None) != (images is None)
