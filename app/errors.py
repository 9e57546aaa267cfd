"""The ServiceError family: every expected failure, with its status and stable code.

Each protocol renders them its own way; this module knows nothing of HTTP libraries, so the
worker processes that decode requests import it cheaply and raise the same errors.
"""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """An expected failure, shown to clients as the standard error body."""

    status_code = 500
    code = "internal_error"
    headers: dict[str, str] | None = None  # sent with the error (Retry-After, Allow)

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.details = details

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a worker process, re-raised here: the details must survive pickling.
        return (type(self), (str(self), self.details))


class ModelNotFoundError(ServiceError):
    status_code = 404
    code = "model_not_found"


class VersionNotFoundError(ServiceError):
    status_code = 404
    code = "version_not_found"


class LabelNotFoundError(ServiceError):
    status_code = 404
    code = "label_not_found"


class PlotNotFoundError(ServiceError):
    status_code = 404
    code = "plot_not_found"


class ComparisonNotFoundError(ServiceError):
    status_code = 404
    code = "comparison_not_found"


class ComparisonUnavailableError(ServiceError):
    """The comparison's files are there but fail their checks (checksum, size, format)."""

    status_code = 503
    code = "comparison_unavailable"


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


class BlankImageError(InvalidImageError):
    """A picture in which no ink stands out from the paper and its noise."""

    code = "blank_image"


class UnsupportedMediaTypeError(ServiceError):
    status_code = 415
    code = "unsupported_media_type"


class PayloadTooLargeError(ServiceError):
    status_code = 413
    code = "payload_too_large"


class UnauthorizedError(ServiceError):
    status_code = 401
    code = "unauthorized"
    headers = {"WWW-Authenticate": 'Bearer realm="admin"'}  # RFC 9110: a 401 names its scheme


class TooManyAttemptsError(ServiceError):
    """Too many failed admin attempts from one address; `headers` carries Retry-After."""

    status_code = 429
    code = "too_many_attempts"


class AdminDisabledError(ServiceError):
    status_code = 404
    code = "admin_disabled"


class RegistryNotWritableError(ServiceError):
    status_code = 503
    code = "registry_not_writable"


class NotReadyError(ServiceError):
    status_code = 503
    code = "not_ready"


class BadRequestError(ServiceError):
    """A body that cannot be read at all: not UTF-8, nested too deeply, a lone surrogate."""

    status_code = 400
    code = "bad_request"


class InvalidRequestError(ServiceError):
    """A readable body or path of the wrong shape (no `instances`, version 0)."""

    status_code = 422
    code = "invalid_request"


class RouteNotFoundError(ServiceError):
    status_code = 404
    code = "not_found"


class MethodNotAllowedError(ServiceError):
    status_code = 405
    code = "method_not_allowed"

    def __init__(self, message: str, allowed: list[str]) -> None:
        super().__init__(message)
        self.headers = {"Allow": ", ".join(allowed)}


class RequestTimeoutError(ServiceError):
    """The client did not send its body in time."""

    status_code = 408
    code = "request_timeout"


class OverloadedError(ServiceError):
    status_code = 503
    code = "overloaded"


class DeadlineExceededError(ServiceError):
    status_code = 504
    code = "deadline_exceeded"
