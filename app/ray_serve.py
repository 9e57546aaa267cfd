"""Ray Serve: the same app as N replicas across a Ray cluster (the `ray` extra).

`serve run deploy/ray/serve.yaml` (or `serve deploy`) runs `app.ray_serve:app`. Each replica
builds its own app, from its SERVING_* variables (the config's runtime_env), when it starts:
only this module's name crosses the cluster, never a model. SERVING_MODELS_DIR must be a path
every node can read (a shared volume); each replica loads the registry from it and re-scans it,
so a new version there reaches every replica without a redeploy.
"""

from __future__ import annotations

import os

import ray
from ray import serve

from app.front.asgi import ASGIApp, Message, Receive, Scope, Send
from app.main import create_app

# Which node, replica and process answered: the smoke test (scripts/ray_smoke.py) reports it.
SERVED_BY = b"x-served-by"


class ServedBy:
    """Adds the X-Served-By header to every response of `app`."""

    def __init__(self, app: ASGIApp, value: str) -> None:
        self.app = app
        self.header = (SERVED_BY, value.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # the lifespan: models load here
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_marked)


def build_app() -> ASGIApp:
    """The app of one replica, built in the replica's own process (Ray calls this there)."""
    replica = serve.get_replica_context().replica_id.unique_id
    node = ray.get_runtime_context().get_node_id()
    return ServedBy(create_app(), f"node={node} replica={replica} pid={os.getpid()}")


# Replicas, autoscaling and resources come from the config file (deploy/ray/serve.yaml).
ModelServe = serve.deployment(name="modelserve")(serve.ingress(build_app)())
app = ModelServe.bind()
