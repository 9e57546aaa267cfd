"""The URL sink of the payload log: CloudEvents over HTTP in binary content mode, as KServe's
payload logger sends them. Each captured request is two events with the request id as ce-id:
`org.kubeflow.serving.inference.request` (the inputs) and `.response` (the outputs).

Sent from the payload writer's thread over one kept-alive connection, a batch at a time; a failed
event is retried with backoff, then the rest of its batch is given up (and counted), and the
sink rests before the next batch, longer each time it fails again: an endpoint that is down or
stalls costs dropped records, never a delayed response.
"""

from __future__ import annotations

import base64
import http.client
import ssl
import threading
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

from app.observability.payload_records import (
    Capture,
    Images,
    SinkError,
    answered,
    asked,
    encode,
)

EVENT_TYPE = "org.kubeflow.serving.inference"
TIMEOUT_SECONDS = 2.0  # to connect, and to read each response
ATTEMPTS = 3  # per event, with BACKOFF_SECONDS, then twice that, between them
BACKOFF_SECONDS = 0.1
REST_SECONDS = (1.0, 30.0)  # after a batch failed: the first rest, and the longest
RETRIED = frozenset({408, 425, 429, 500, 502, 503, 504})

Event = tuple[dict[str, str], bytes]


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


class EventSender:
    """Posts each record as a request and a response CloudEvent to `url` (see above)."""

    def __init__(self, url: str, images: Images, stopping: threading.Event) -> None:
        parts = urllib.parse.urlsplit(url)
        self.images = images
        self.stopping = stopping  # set when the server stops: no more retries
        self.https = parts.scheme.lower() == "https"
        self.host = parts.hostname or ""
        self.port = parts.port
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.headers = {"content-type": "application/json", "user-agent": "modelserve"}
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            secret = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{secret}".encode()).decode()
            self.headers["authorization"] = f"Basic {token}"
        port = f":{self.port}" if self.port is not None else ""
        # Shown in /health/ready and the log: without credentials or query (it may hold a token).
        self.where = f"{parts.scheme.lower()}://{self.host}{port}{parts.path or '/'}"
        self._connection: http.client.HTTPConnection | None = None
        self._rest = 0.0
        self._resting_until = 0.0
        self._why = ""  # why the last failed batch failed

    def describe(self) -> str:
        return f"url {self.where}"

    def events(self, capture: Capture) -> tuple[Event, Event]:
        metadata = capture.model.metadata
        common = {
            **self.headers,
            "ce-specversion": "1.0",
            "ce-id": capture.request.id,
            "ce-source": f"/v1/models/{metadata.name}/versions/{metadata.version}",
            "ce-inferenceservicename": metadata.name,
            "ce-component": "predictor",
            "ce-endpoint": capture.route,
        }
        identity: dict[str, Any] = {
            "id": capture.request.id,
            "model": metadata.name,
            "version": metadata.version,
        }
        request = {
            **common,
            "ce-type": f"{EVENT_TYPE}.request",
            "ce-time": _rfc3339(capture.request.time),
        }
        response = {
            **common,
            "ce-type": f"{EVENT_TYPE}.response",
            "ce-time": _rfc3339(capture.request.time + capture.latency_seconds),
        }
        return (
            (request, encode(asked(capture, self.images))),
            (response, encode({**identity, **answered(capture)})),
        )

    def write(self, captures: list[Capture]) -> None:
        if time.monotonic() < self._resting_until:  # dropped unsent: the last batch failed
            raise SinkError(self._why, len(captures))
        for index, capture in enumerate(captures):
            for headers, body in self.events(capture):
                problem = self._send(headers, body)
                if problem is not None:
                    self._rest = min(max(self._rest * 2, REST_SECONDS[0]), REST_SECONDS[1])
                    self._resting_until = time.monotonic() + self._rest
                    self._why = problem
                    raise SinkError(problem, len(captures) - index)
        self._rest = 0.0

    def start(self) -> None:
        pass  # the first batch connects

    def tick(self) -> None:
        pass

    def close(self) -> None:
        self._reset()

    def _send(self, headers: dict[str, str], body: bytes) -> str | None:
        """Post one event, retried; None once accepted, else why it was not."""
        delay, problem = BACKOFF_SECONDS, ""
        for attempt in range(ATTEMPTS):
            if attempt and self.stopping.wait(delay):
                break
            delay *= 2
            try:
                status = self._post(headers, body)
            except (OSError, http.client.HTTPException) as exc:
                self._reset()
                problem = f"cannot send payloads to {self.where}: {exc or type(exc).__name__}"
                continue
            if 200 <= status < 300:
                return None
            problem = f"{self.where} answered {status} to a payload event"
            if status not in RETRIED:
                break
        return problem

    def _post(self, headers: dict[str, str], body: bytes) -> int:
        if self._connection is None:
            if self.https:
                context = ssl.create_default_context()
                self._connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=TIMEOUT_SECONDS, context=context
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=TIMEOUT_SECONDS
                )
        self._connection.request("POST", self.target, body=body, headers=headers)
        response = self._connection.getresponse()
        response.read()
        if response.will_close:
            self._reset()
        return response.status

    def _reset(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
