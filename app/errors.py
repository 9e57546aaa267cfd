"""The ServiceError family and the handlers that render the project's one error shape."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

logger = logging.getLogger(__name__)


class ServiceError(Exception):
    """An expected failure, shown to clients as the standard error body."""

    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details


class ModelNotFoundError(ServiceError):
    status_code = 404
    code = "model_not_found"


class VersionNotFoundError(ServiceError):
    status_code = 404
    code = "version_not_found"


class PlotNotFoundError(ServiceError):
    status_code = 404
    code = "plot_not_found"


class ModelUnavailableError(ServiceError):
    """The version exists but failed to load."""

    status_code = 503
    code = "model_unavailable"


class InvalidInputError(ServiceError):
    status_code = 422
    code = "invalid_input"


class UnsupportedInputError(ServiceError):
    """The model cannot take this kind of input (an image for a tabular model)."""

    status_code = 422
    code = "unsupported_input"


class InvalidImageError(ServiceError):
    status_code = 422
    code = "invalid_image"


class UnsupportedMediaTypeError(ServiceError):
    status_code = 415
    code = "unsupported_media_type"


class PayloadTooLargeError(ServiceError):
    status_code = 413
    code = "payload_too_large"


class UnauthorizedError(ServiceError):
    status_code = 401
    code = "unauthorized"


class AdminDisabledError(ServiceError):
    status_code = 404
    code = "admin_disabled"


class NotReadyError(ServiceError):
    status_code = 503
    code = "not_ready"


HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def error_response(
    status_code: int,
    code: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """The one error body: {"error": {"code", "message", "details"?}}."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details:
        error["details"] = details
    return JSONResponse({"error": error}, status_code=status_code, headers=headers)


async def handle_service_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ServiceError)
    return error_response(exc.status_code, exc.code, str(exc), exc.details)


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(error["loc"]), "message": error["msg"], "type": error["type"]}
        for error in exc.errors()
    ]
    first = details[0] if details else {"loc": [], "message": "invalid request"}
    where = ".".join(str(part) for part in first["loc"])
    return error_response(422, "invalid_request", f"{where}: {first['message']}", details)


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    if message == "There was an error parsing the body":  # FastAPI's words for what json refused
        message = "The body could not be parsed: send UTF-8 JSON, not nested too deeply."
    elif exc.status_code == 404 and message == "Not Found":
        message = f"No route {request.method} {request.url.path}."
    elif exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
    return error_response(exc.status_code, code, message, headers=getattr(exc, "headers", None))


async def handle_crash(request: Request, exc: Exception) -> JSONResponse:
    logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(500, "internal_error", "The server failed to handle this request.")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ServiceError, handle_service_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(Exception, handle_crash)
