"""The file parts of a multipart/form-data body already in memory, parsed by python-multipart.

Starlette's form parser spools every file to a temporary file behind an UploadFile: a third of
the cost of a one-digit upload. The predict fast path has the whole body in memory (its size
capped by the request guard), so it hands it to python-multipart's parser directly and keeps the
parts as bytes. It answers only well-formed forms; anything else is left to the routes, whose
Starlette form parsing says what is wrong.
"""

from __future__ import annotations

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header


class _Part:
    __slots__ = ("data", "disposition")

    def __init__(self) -> None:
        self.disposition = b""
        self.data = bytearray()


def file_parts(body: bytes, content_type: bytes, field: bytes, limit: int) -> list[bytes] | None:
    """The bytes of every part in order, when the body is a well-formed form of one to `limit`
    parts, every one a file upload named `field`; None otherwise."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        return None
    parts: list[_Part] = []  # the parts whose end was seen, as Starlette counts them
    current = _Part()
    header_name = bytearray()
    header_value = bytearray()

    def on_header_field(data: bytes, start: int, end: int) -> None:
        header_name.extend(data[start:end])

    def on_header_value(data: bytes, start: int, end: int) -> None:
        header_value.extend(data[start:end])

    def on_header_end() -> None:
        if header_name.lower() == b"content-disposition":
            current.disposition = bytes(header_value)
        header_name.clear()
        header_value.clear()

    def on_part_data(data: bytes, start: int, end: int) -> None:
        current.data.extend(data[start:end])

    def on_part_begin() -> None:
        nonlocal current
        current = _Part()

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": lambda: parts.append(current),
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError:
        return None
    if not 1 <= len(parts) <= limit:
        return None
    files = []
    for part in parts:
        _, options = parse_options_header(part.disposition)
        if options.get(b"name") != field or b"filename" not in options:
            return None
        files.append(bytes(part.data))
    return files
