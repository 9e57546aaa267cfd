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
import threading
import time
import urllib.parse
from datetime import UTC, datetime

from app.observability.payload_http import Connection
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
# Events sent at once before their answers are read: a few dozen KB, within socket buffers.
PIPELINE = 16
MAX_MADE = 1024  # versions and routes whose event headers are kept made

Event = tuple[bytes, bytes]  # header lines, body


def _lines(headers: dict[str, str]) -> bytes:
    """Header lines; every value here is ours or checked (the request id's characters), none
    holds a line break."""
    return "".join(f"{name}: {value}\r\n" for name, value in headers.items()).encode("latin-1")


def _rfc3339(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="microseconds")[:-6] + "Z"


class EventSender:
    """Posts each record as a request and a response CloudEvent to `url` (see above)."""

    def __init__(self, url: str, images: Images, stopping: threading.Event) -> None:
        parts = urllib.parse.urlsplit(url)
        self.images = images
        self.stopping = stopping  # set when the server stops: no more retries
        https = parts.scheme.lower() == "https"
        host = parts.hostname or ""
        port = parts.port or (443 if https else 80)
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.headers = {"content-type": "application/json", "user-agent": "modelserve"}
        if parts.username is not None:
            user = urllib.parse.unquote(parts.username)
            secret = urllib.parse.unquote(parts.password or "")
            token = base64.b64encode(f"{user}:{secret}".encode()).decode()
            self.headers["authorization"] = f"Basic {token}"
        shown = f":{parts.port}" if parts.port is not None else ""
        # Shown in /health/ready and the log: without credentials or query (it may hold a token).
        self.where = f"{parts.scheme.lower()}://{host}{shown}{parts.path or '/'}"
        self._connection = Connection(host, port, https, TIMEOUT_SECONDS)
        self._rest = 0.0
        self._resting_until = 0.0
        self._why = ""  # why the last failed batch failed
        self._depth = PIPELINE  # events sent before their answers are read
        self._made: dict[tuple[str, int, str], tuple[bytes, bytes]] = {}

    def describe(self) -> str:
        return f"url {self.where}"

    def _common(self, capture: Capture) -> tuple[bytes, bytes]:
        """The header lines of a version's request and response events but their id and time,
        made once per version and route."""
        metadata = capture.model.metadata
        key = (metadata.name, metadata.version, capture.route)
        found = self._made.get(key)
        if found is None:
            if len(self._made) > MAX_MADE:  # versions come and go: start afresh
                self._made.clear()
            common = {
                **self.headers,
                "ce-specversion": "1.0",
                "ce-source": f"/v1/models/{metadata.name}/versions/{metadata.version}",
                "ce-inferenceservicename": metadata.name,
                "ce-component": "predictor",
                "ce-endpoint": capture.route,
            }
            found = self._made[key] = (
                _lines({**common, "ce-type": f"{EVENT_TYPE}.request"}),
                _lines({**common, "ce-type": f"{EVENT_TYPE}.response"}),
            )
        return found

    def events(self, capture: Capture) -> tuple[Event, Event]:
        """The request's event (its inputs) and the response's (its outputs)."""
        request, response = self._common(capture)
        started, identity = capture.request.time, capture.request.id
        answered_at = started + capture.latency_seconds
        metadata = capture.model.metadata
        short = {"id": identity, "model": metadata.name, "version": metadata.version}
        return (
            (
                request + f"ce-id: {identity}\r\nce-time: {_rfc3339(started)}\r\n".encode(),
                encode(asked(capture, self.images)),
            ),
            (
                response + f"ce-id: {identity}\r\nce-time: {_rfc3339(answered_at)}\r\n".encode(),
                encode({**short, **answered(capture)}),
            ),
        )

    def write(self, captures: list[Capture]) -> None:
        if time.monotonic() < self._resting_until:  # dropped unsent: the last batch failed
            raise SinkError(self._why, len(captures))
        pending = [
            (index, event)
            for index, capture in enumerate(captures)
            for event in self.events(capture)
        ]
        lost: set[int] = set()
        delay, problem = BACKOFF_SECONDS, ""
        for attempt in range(ATTEMPTS):
            if not pending or (attempt and self.stopping.wait(delay)):
                break
            delay *= 2
            answered, failure = self._post([event for _, event in pending])
            retried = []
            for position, (index, event) in enumerate(pending):
                status = answered[position] if position < len(answered) else None
                if status is not None and 200 <= status < 300:
                    continue
                if status is None:
                    problem = failure or f"{self.where} closed the connection before answering"
                else:
                    problem = f"{self.where} answered {status} to a payload event"
                if status is None or status in RETRIED:
                    retried.append((index, event))
                else:
                    lost.add(index)
            pending = retried
        lost.update(index for index, _ in pending)
        if lost:
            self._rest = min(max(self._rest * 2, REST_SECONDS[0]), REST_SECONDS[1])
            self._resting_until = time.monotonic() + self._rest
            self._why = problem
            raise SinkError(problem, len(lost))
        self._rest = 0.0

    def _post(self, events: list[Event]) -> tuple[list[int], str | None]:
        """The statuses of the events answered, in order, and why the rest were not (None:
        the receiver closed the connection without answering them). A receiver that closes
        the connection after an answer is sent the rest over a new one, one at a time from
        then on: what was pipelined after a closing answer is lost with the connection."""
        answered: list[int] = []
        while len(answered) < len(events):
            chunk = events[len(answered) : len(answered) + self._depth]
            try:
                statuses = self._connection.post_all(self.target, chunk)
            except (OSError, ValueError) as exc:
                self._connection.close()
                reason = str(exc) or type(exc).__name__
                return (
                    answered + self._connection.answered,
                    f"cannot send payloads to {self.where}: {reason}",
                )
            if not statuses:
                return answered, None
            if len(statuses) < len(chunk):
                self._depth = 1
            answered += statuses
        return answered, None

    def start(self) -> None:
        pass  # the first batch connects

    def tick(self) -> None:
        pass

    def close(self) -> None:
        self._connection.close()
