"""JSON in and out with orjson: the standard library's json was a large share of a request."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

import orjson
from fastapi import Request, Response
from fastapi.routing import APIRoute

from app.asgi import media_type
from app.errors import UnsupportedMediaTypeError


class OrjsonRequest(Request):
    """A request whose JSON body is parsed by orjson."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            body = await self.body()
            try:
                self._json = orjson.loads(body)
            except orjson.JSONDecodeError:
                # NaN, Infinity and integers beyond 64 bits are not JSON to orjson; json reads
                # them, so the row checks can say what is wrong, and raises for real faults.
                self._json = json.loads(body)
        return self._json


def require_json(request: Request) -> None:
    """Routes with a JSON body take application/json (or a +json type) and nothing else."""
    declared_type = media_type(request.scope)
    if declared_type != "application/json" and not declared_type.endswith("+json"):
        raise UnsupportedMediaTypeError(
            f"Content type '{declared_type or 'none'}' is not accepted: send application/json "
            'like {"instances": [[...]]}, or images to the /predict/image route.'
        )


class OrjsonRoute(APIRoute):
    """An APIRoute that reads JSON bodies with orjson, after checking they are JSON (415).

    The check runs here, before FastAPI validates the body, as a dependency would; a dependency
    cost more than the model on a one-row request."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        takes_json = self.body_field is not None

        async def route(request: Request) -> Response:
            if takes_json:
                require_json(request)
            return await handler(OrjsonRequest(request.scope, request.receive))

        return route


def json_response(body: Any, headers: dict[str, str] | None = None) -> Response:
    """A 200 JSON response serialised by orjson (numpy-free, plain Python values)."""
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
