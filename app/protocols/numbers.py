"""Integers from the text of a request (a path, a query string), read without int()'s traps."""

from __future__ import annotations


def bounded_int(text: str, low: int, high: int) -> int | None:
    """`text` as an integer from `low` to `high` (both >= 0), or None when it is not one.

    ASCII digits only (str.isdigit() also takes '²' and '１'), leading zeros aside no more of
    them than `high` has: int() refuses over 4,300 digits with a ValueError, a 500 it was."""
    if not (text.isascii() and text.isdigit() and len(text.lstrip("0")) <= len(str(high))):
        return None
    number = int(text)
    return number if low <= number <= high else None
