"""The `file` parts of a multipart/form-data body held in memory, parsed by python-multipart.

The body has been read whole (its size capped), so parts are kept as bytes: Starlette's form
parser spooled every file to a temporary file, a third of the cost of a one-digit upload.
A part under another name is refused (422), not ignored: it is likely a misnamed image.
"""

from __future__ import annotations

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header

from app.errors import InvalidImageError, InvalidRequestError, PayloadTooLargeError


class _Part:
    __slots__ = ("data", "disposition")

    def __init__(self) -> None:
        self.disposition = b""
        self.data = bytearray()


def file_parts(body: bytes, content_type: bytes, field: bytes, limit: int) -> list[bytes]:
    """The bytes of every file part named `field`, in order: one to `limit` of them (413 past
    it, counted as the parts arrive); 422 for a malformed form, a text field under that name,
    or no such part."""
    _, params = parse_options_header(content_type)
    boundary = params.get(b"boundary")
    if not boundary:
        raise InvalidImageError("The multipart form has no boundary in its Content-Type.")
    parts: list[_Part] = []  # the parts whose end was seen
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

    def on_part_end() -> None:
        parts.append(current)
        if len(parts) > 2 * limit:  # fields beside the files are few; a flood is refused early
            raise PayloadTooLargeError(f"More than {2 * limit} parts in one form.")

    parser = MultipartParser(
        boundary,
        {
            "on_part_begin": on_part_begin,
            "on_part_data": on_part_data,
            "on_part_end": on_part_end,
            "on_header_field": on_header_field,
            "on_header_value": on_header_value,
            "on_header_end": on_header_end,
        },
    )
    try:
        parser.write(body)
        parser.finalize()
    except FormParserError as exc:
        raise InvalidImageError(f"The multipart form could not be parsed: {exc}.") from exc
    files, others = [], []
    for part in parts:
        _, options = parse_options_header(part.disposition)
        if options.get(b"name") != field:
            others.append(options.get(b"name", b"").decode("latin-1")[:64])
        elif b"filename" not in options:
            raise InvalidImageError("Each 'file' part must be a file upload, not a text field.")
        else:
            files.append(bytes(part.data))
    if not files:
        raise InvalidImageError(
            "No 'file' part in the form: send each image as -F file=@digit.png."
        )
    if others:
        raise InvalidRequestError(
            f"Unknown form field '{others[0]}': send each image as a '{field.decode()}' part."
        )
    if len(files) > limit:
        raise PayloadTooLargeError(f"{len(files)} images in one request; at most {limit}.")
    return files
