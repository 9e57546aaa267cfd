"""The count of a body's JSON values that refuses, before parsing, what no request within the
row limit could hold: commas and brackets inside text do not count, strings do."""

from __future__ import annotations

import json

import pytest

from app.errors import PayloadTooLargeError
from app.protocols.native_codec import check_values, read_json


def test_separators_inside_text_are_not_values() -> None:
    rows = [{"note": "a, b, [c], {d}" * 50} for _ in range(10)]
    body = json.dumps({"instances": rows}).encode()
    assert body.count(b",") > 1000
    assert read_json(body, budget=100) == {"instances": rows}


@pytest.mark.parametrize(
    "body",
    [
        b"[" + b",".join([b"[]"] * 5000) + b"]",
        b"[" + b",".join([b'{"b64":""}'] * 2000) + b"]",  # strings are values too
    ],
)
def test_a_body_of_more_values_than_the_budget_is_refused(body: bytes) -> None:
    with pytest.raises(PayloadTooLargeError, match="JSON values"):
        check_values(body, budget=1000)
