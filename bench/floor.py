"""The floors: a bare FastAPI route and a bare ASGI callable, each answering a constant."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CONSTANT = b'{"status":"ok"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(CONSTANT)).encode())]


def create_app() -> FastAPI:
    """What any FastAPI route costs on these server settings, before a model does any work."""
    app = FastAPI()

    @app.post("/floor")
    async def floor(body: dict[str, Any]) -> dict[str, str]:
        return {"status": "ok"}

    return app


def create_raw_app() -> ASGIApp:
    """What uvicorn alone costs: any request's body is read to its end, then a constant."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            # Answered, so uvicorn does not log that the app lacks lifespan support.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        if scope["type"] != "http":
            return
        more_body = True
        while more_body:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more_body = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": CONSTANT})

    return app
