"""The optional data-plane token (SERVING_API_TOKEN): which routes ask for it, and the check of
an `Authorization: Bearer <token>` header against it, in constant time."""

from __future__ import annotations

import hmac

from app.errors import UnauthorizedError

# The routes that run a model or preprocess images, in every dialect: native /predict,
# /predict/image and /preprocess/image, V2 /infer, TF Serving :predict.
PROTECTED_SUFFIXES = ("/predict", "/predict/image", "/preprocess/image", "/infer", ":predict")


class PredictUnauthorizedError(UnauthorizedError):
    headers = {"WWW-Authenticate": 'Bearer realm="predict"'}


def bearer(headers: list[tuple[bytes, bytes]]) -> bytes:
    """The credentials of the request's `Authorization: Bearer <token>` header (the scheme's
    case is free, RFC 9110); b"" when there is none."""
    for name, value in headers:
        if name == b"authorization":
            scheme, _, credentials = value.strip().partition(b" ")
            return credentials.strip() if scheme.lower() == b"bearer" else b""
    return b""


class ApiToken:
    """SERVING_API_TOKEN, checked on the routes that predict; None turns the check off."""

    def __init__(self, token: str | None) -> None:
        self._expected = token.encode() if token is not None else None

    def protects(self, template: str) -> bool:
        return self._expected is not None and template.endswith(PROTECTED_SUFFIXES)

    def check(self, headers: list[tuple[bytes, bytes]]) -> None:
        """Raise PredictUnauthorizedError unless the request carries the token."""
        if self._expected is None:
            return
        # Constant time: how long the comparison takes says nothing about the guess.
        if not hmac.compare_digest(bearer(headers), self._expected):
            raise PredictUnauthorizedError(
                "This route needs a bearer token: Authorization: Bearer <SERVING_API_TOKEN>."
            )
