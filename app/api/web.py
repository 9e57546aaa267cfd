"""The web page at / and the interactive documentation (/docs, /redoc), from app/web/.

Everything they load is a file of the package, served under /static/: no CDN, no build step.
The pages' Content-Security-Policy is set by the front (app/front/dispatch.py, PAGE_POLICIES)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

WEB_DIR = Path(__file__).resolve().parent.parent / "web"

router = APIRouter(include_in_schema=False)


def _page(relative: str) -> FileResponse:
    return FileResponse(WEB_DIR / relative, media_type="text/html; charset=utf-8")


@router.get("/")
async def page() -> FileResponse:
    """The page: models, draw a digit, upload a digit, Iris."""
    return _page("index.html")


@router.get("/docs")
async def swagger_ui() -> FileResponse:
    return _page("docs/swagger.html")


@router.get("/docs/oauth2-redirect")
async def swagger_ui_redirect() -> FileResponse:
    return _page("docs/oauth2-redirect.html")


@router.get("/redoc")
async def redoc() -> FileResponse:
    return _page("docs/redoc.html")


def install_web(app: FastAPI) -> None:
    """The routes above and the static files (scripts, styles, the vendored documentation)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
