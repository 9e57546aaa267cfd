"""The floor: a bare FastAPI endpoint that takes a small JSON body and returns a constant."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI


def create_app() -> FastAPI:
    """What any FastAPI route costs on these server settings, before a model does any work."""
    app = FastAPI()

    @app.post("/floor")
    async def floor(body: dict[str, Any]) -> dict[str, str]:
        return {"status": "ok"}

    return app
