"""Read the images of a predict/image request: multipart `file` parts or one raw image body."""

from __future__ import annotations

import asyncio

import numpy as np
from fastapi import Request
from starlette.datastructures import UploadFile

from app.asgi import media_type
from app.errors import InvalidImageError, PayloadTooLargeError, UnsupportedMediaTypeError
from app.imaging import MEDIA_TYPES, preprocess
from app.settings import Settings


async def read_images(request: Request, settings: Settings) -> np.ndarray:
    """Every uploaded image as an MNIST-style 28x28 array, stacked in upload order."""
    content_type = media_type(request.scope)
    if content_type == "multipart/form-data":
        payloads = await _multipart_files(request, settings)
    elif content_type in MEDIA_TYPES or content_type == "application/octet-stream":
        payloads = [await request.body()]
    else:
        raise UnsupportedMediaTypeError(
            f"Content type '{content_type or 'none'}' is not accepted: send multipart/form-data "
            f"with one or more 'file' parts, or a raw body of type {', '.join(MEDIA_TYPES)}."
        )
    return await to_images(payloads, settings)


async def to_images(payloads: list[bytes], settings: Settings) -> np.ndarray:
    """Each uploaded image as an MNIST-style 28x28 array, stacked in upload order."""
    images = []
    for index, data in enumerate(payloads):
        try:
            images.append(preprocess(data, settings.max_image_pixels))
        except InvalidImageError as exc:
            exc.details = [{"loc": ["file", index], "message": str(exc)}]
            if len(payloads) > 1:
                exc.args = (f"file[{index}]: {exc}",)
            raise
        if len(payloads) > 1:
            # Let the event loop breathe between images: health checks answer, and the request
            # deadline can end a long batch here instead of after it.
            await asyncio.sleep(0)
    return np.stack(images)


async def _multipart_files(request: Request, settings: Settings) -> list[bytes]:
    limit = settings.max_batch_rows
    form = await request.form(max_files=limit + 1, max_fields=limit + 1)
    try:
        parts = form.getlist("file")
        if not parts:
            raise InvalidImageError(
                "No 'file' part in the form: send each image as -F file=@digit.png."
            )
        if len(parts) > limit:
            raise PayloadTooLargeError(f"{len(parts)} images in one request; at most {limit}.")
        files = [part for part in parts if isinstance(part, UploadFile)]
        if len(files) != len(parts):
            raise InvalidImageError("Each 'file' part must be a file upload, not a text field.")
        return [await part.read() for part in files]
    finally:
        await form.close()
