"""The predict fast path: valid predict requests answered without FastAPI's request handling.

On a one-row request, FastAPI's route matching, dependency solving and body validation cost more
than the model. This ASGI layer sits in front of them: a POST to one of the four predict routes
with a declared body length is read, checked and scored here, with the same code the routes use.
Anything it does not answer (a malformed body, an unknown model, invalid rows or images, a streamed
body) goes on to the FastAPI routes with its body replayed, so errors and the OpenAPI documentation
have one source: the routes in app/api/models.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson
from fastapi.routing import APIRoute

from app.api.deps import Serving, label_request
from app.api.multipart import file_parts
from app.api.uploads import to_images
from app.asgi import ASGIApp, Message, Receive, Scope, Send, content_length, header, media_type
from app.errors import ServiceError
from app.imaging import MEDIA_TYPES
from app.inputs import to_batch
from app.predicting import predict
from app.registry import NAME_PATTERN
from app.settings import Settings

PREDICT_PATH = re.compile(
    r"/v1/models/(?P<name>[^/]+)(?:/versions/(?P<version>[0-9]{1,10}))?/predict(?P<image>/image)?"
)
MAX_VERSION = 2**31  # as the routes' Version parameter
RAW_IMAGE_TYPES = frozenset((*MEDIA_TYPES, "application/octet-stream"))


def _template(version: str | None, image: str | None) -> str:
    """The route template of a matched predict path, as the metrics label it."""
    path = "/v1/models/{name}" + ("/versions/{version}" if version else "") + "/predict"
    return path + ("/image" if image else "")


async def _read_body(receive: Receive) -> tuple[bytes | None, list[Message]]:
    """The whole body and the messages it came in; None when the client left first."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), messages


def _replay(messages: Iterable[Message], receive: Receive) -> Receive:
    """`receive` giving the messages already read first, then the live ones."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


class PredictFastPath:
    """ASGI middleware answering valid predict requests; the rest go on to `app` untouched."""

    def __init__(self, app: ASGIApp, routes: Iterable[Any], state: Any) -> None:
        self.app = app
        self._state = state
        # The documented routes: metrics label a request by its route, as for any other.
        self._routes = {r.path: r for r in routes if isinstance(r, APIRoute)}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = None
        if scope["type"] == "http" and scope["method"] == "POST":
            match = PREDICT_PATH.fullmatch(scope["path"])
        if match is None or content_length(scope) is None:
            await self.app(scope, receive, send)
            return
        body, messages = await _read_body(receive)
        response = None
        if body is not None:
            response = await self._answer(scope, match, body)
        if response is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        await send(response[0])
        await send(response[1])

    async def _answer(
        self, scope: Scope, match: re.Match[str], body: bytes
    ) -> tuple[Message, Message] | None:
        """The response messages, or None to leave the request to the routes."""
        name, version, image = match.group("name", "version", "image")
        if NAME_PATTERN.fullmatch(name) is None:
            return None
        number = int(version) if version else None
        if number is not None and not 1 <= number <= MAX_VERSION:
            return None
        declared_type = media_type(scope)
        context = Serving.of(self._state)
        try:
            if image:
                model = context.registry.get(name, number)
                payloads = self._uploads(scope, declared_type, body, context.settings)
                if payloads is None or model.metadata.input.kind != "image":
                    return None
                images = await to_images(payloads, context.settings)
                batch = images.reshape(len(images), -1)
            else:
                if declared_type != "application/json":
                    return None
                document = orjson.loads(body)
                instances = document.get("instances") if type(document) is dict else None
                if type(instances) is not list or not instances:
                    return None
                model = context.registry.get(name, number)
                batch = to_batch(instances, model.metadata.input, context.settings.max_batch_rows)
            answer = await predict(model, batch, context.metrics, context.batchers)
        except (ServiceError, orjson.JSONDecodeError):
            return None  # the route says what is wrong, in the one error shape
        scope["route"] = self._routes.get(_template(version, image))
        label_request(scope, model)
        data = orjson.dumps(answer)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            (b"x-model-version", str(model.metadata.version).encode()),
        ]
        return (
            {"type": "http.response.start", "status": 200, "headers": headers},
            {"type": "http.response.body", "body": data},
        )

    @staticmethod
    def _uploads(
        scope: Scope, declared_type: str, body: bytes, settings: Settings
    ) -> list[bytes] | None:
        """The uploaded images' bytes, as the routes read them, or None to leave it to them."""
        if declared_type == "multipart/form-data":
            content_type = header(scope, b"content-type") or b""
            return file_parts(body, content_type, b"file", settings.max_batch_rows)
        if declared_type in RAW_IMAGE_TYPES:
            return [body]
        return None
