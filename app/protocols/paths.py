"""The model a data-plane path names, /{name}[/versions/{version} | /labels/{label}], in every
dialect."""

from __future__ import annotations

from app.core.dataplane import DataPlane, Target
from app.errors import InvalidRequestError, VersionNotFoundError
from app.front.asgi import header
from app.protocols.numbers import bounded_int
from app.protocols.routing import Call
from app.registry.labels import LABEL_PATTERN
from app.registry.registry import NAME_PATTERN

MAX_VERSION = 2**31


def version_number(version: str, name: str | None = None) -> int:
    """The version a path names: a number as the registry writes it (404 for one written
    otherwise, such as 01, which no version folder is), from 1 to MAX_VERSION (422)."""
    if version.isascii() and version.isdigit() and version[:1] == "0" and len(version) > 1:
        of = f" of model '{name}'" if name is not None else ""
        raise VersionNotFoundError(
            f"No version {version}{of}: versions are numbers without leading zeros."
        )
    number = bounded_int(version, 1, MAX_VERSION)
    if number is None:
        raise InvalidRequestError(
            f"path.version: must be an integer from 1 to {MAX_VERSION}",
            [{"loc": ["path", "version"], "message": "must be an integer from 1"}],
        )
    return number


def resolve(plane: DataPlane, call: Call, version_may_be_label: bool = False) -> Target:
    """The version the path names (checked as FastAPI's routes check them): pinned, by label
    (/labels/{label}, or a V2 version that is a label name), or production, else the newest.
    X-Request-Key keeps one client on one side of a canary."""
    name, version = call.params["name"] or "", call.params.get("version")
    label = call.params.get("label")
    if NAME_PATTERN.fullmatch(name) is None:
        raise InvalidRequestError(
            f"path.name: must match {NAME_PATTERN.pattern}",
            [{"loc": ["path", "name"], "message": f"must match {NAME_PATTERN.pattern}"}],
        )
    if version_may_be_label and version is not None and LABEL_PATTERN.fullmatch(version):
        version, label = None, version
    if label is not None and LABEL_PATTERN.fullmatch(label) is None:
        raise InvalidRequestError(
            f"path.label: must match {LABEL_PATTERN.pattern}",
            [{"loc": ["path", "label"], "message": f"must match {LABEL_PATTERN.pattern}"}],
        )
    number = None if version is None else version_number(version, name)
    target = plane.resolve(name, number, label, header(call.scope, b"x-request-key"))
    # Name the model and version in the request's metrics, errors included.
    state = call.scope.setdefault("state", {})
    state["model"] = name
    state["version"] = str(target.model.metadata.version)
    return target
