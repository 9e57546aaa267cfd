"""The model a data-plane path names: /{name}[/versions/{version}] in every dialect."""

from __future__ import annotations

from app.dataplane import DataPlane
from app.errors import InvalidRequestError
from app.protocols.routing import Call
from app.registry import NAME_PATTERN, LoadedModel

MAX_VERSION = 2**31


def resolve(plane: DataPlane, call: Call) -> LoadedModel:
    """The model the path names, its name and version checked as FastAPI's routes check them."""
    name, version = call.params["name"] or "", call.params.get("version")
    if NAME_PATTERN.fullmatch(name) is None:
        raise InvalidRequestError(
            f"path.name: must match {NAME_PATTERN.pattern}",
            [{"loc": ["path", "name"], "message": f"must match {NAME_PATTERN.pattern}"}],
        )
    number = None
    if version is not None:
        if not (version.isascii() and version.isdigit() and 1 <= int(version) <= MAX_VERSION):
            raise InvalidRequestError(
                f"path.version: must be an integer from 1 to {MAX_VERSION}",
                [{"loc": ["path", "version"], "message": "must be an integer from 1"}],
            )
        number = int(version)
    model = plane.model(name, number)
    # Name the model and version in the request's metrics, errors included.
    state = call.scope.setdefault("state", {})
    state["model"] = name
    state["version"] = str(model.metadata.version)
    return model
