"""Every serving setting, read from SERVING_* environment variables in one place."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Server configuration; `Settings()` reads the environment, tests pass values directly."""

    model_config = SettingsConfigDict(env_prefix="SERVING_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address to listen on (python -m app).")
    port: int = Field(8000, ge=1, le=65535, description="Port to listen on (python -m app).")
    workers: int = Field(
        1,
        ge=1,
        description="uvicorn worker processes (python -m app), each with every model loaded; "
        "/metrics sums them all.",
    )
    metrics_multiprocess_dir: Path | None = Field(
        None,
        validation_alias="PROMETHEUS_MULTIPROC_DIR",
        description="The folder where each worker writes its metrics for /metrics to sum "
        "(prometheus_client's own variable, read by it too); python -m app makes a temporary "
        "one when SERVING_WORKERS > 1. Unset: one process's metrics.",
    )
    graceful_shutdown_seconds: int = Field(
        20, ge=1, description="On SIGTERM, how long in-flight requests get to finish."
    )
    models_dir: Path = Field(Path("models"), description="The registry folder to serve.")
    admin_token: SecretStr | None = Field(
        None,
        description="Bearer token for the admin API (POST /v1/admin/reload, the label routes); "
        "unset turns it off.",
    )
    api_token: SecretStr | None = Field(
        None,
        description="Bearer token every predict route asks for (native, V2 and TF Serving "
        "dialects); unset: predicting needs no token.",
    )
    admin_attempts_per_minute: int = Field(
        10,
        ge=1,
        description="Failed admin calls (wrong or missing token) one client address may make "
        "a minute; beyond, every admin call from it gets 429 with Retry-After until the count "
        "has leaked below.",
    )
    allow_pickle: bool = Field(
        False,
        description="Load model.joblib pickles (unpickling runs code from the file; needs the "
        "`pickle` extra). Off: only ONNX and TFLite artifacts are loaded; a version whose artifact "
        "is a pickle fails, with the reason.",
    )
    allow_symlinks: bool = Field(
        False,
        description="Follow symbolic links to model folders, version folders and files, as long "
        "as they resolve inside the registry folder. Off: linked folders are skipped and reported, "
        "linked files fail their version.",
    )
    forwarded_allow_ips: str = Field(
        "",
        description="Comma-separated addresses of the proxies whose X-Forwarded-For and "
        "X-Forwarded-Proto are trusted (uvicorn's forwarded_allow_ips); empty: none, the peer's "
        "address is the client's.",
    )
    reload_interval_seconds: float = Field(
        5.0, ge=0, description="How often the registry is re-scanned for new versions; 0 never."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="The least severe log lines written: debug, info, warning or error."
    )
    access_log: bool = Field(
        False,
        description="One log line a request (client, method, path, status, milliseconds and "
        "request id), at info level; off: requests are only counted in /metrics.",
    )
    max_batch_rows: int = Field(
        1024, ge=1, description="Rows (or images) per predict request; more get 413."
    )
    shadow_queue_rows: int = Field(
        4096,
        ge=0,
        description="Rows waiting for shadow versions to score them; beyond, comparisons are "
        "dropped (and counted).",
    )
    drift_window: int = Field(
        1000,
        ge=1,
        description="Rows per model version kept to measure drift against the training data "
        "(GET /v1/models/{name}/drift, serving_drift_psi): the most recent ones.",
    )
    max_image_pixels: int = Field(
        25_000_000,
        ge=1,
        description="Largest image accepted (width x height), checked before decoding.",
    )
    max_request_pixels: int = Field(
        25_000_000,
        ge=1,
        description="Most pixels (width x height, from the headers) over all images of one "
        "request; more get 413 before any is decoded.",
    )
    max_body_bytes: int = Field(
        10 * 1024 * 1024, ge=1, description="Largest request body; larger ones get 413 unread."
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description="Open connections. At the cap a new one closes the connection that has "
        "waited longest for its request head (answered 503 with Retry-After), else one idle "
        "between requests; when every connection has a request in the app, the new one gets the "
        "503.",
    )
    max_buffered_bytes: int = Field(
        128 * 1024 * 1024,
        ge=1024,
        description="Bytes of request heads and bodies the server holds at once, each request's "
        "from its first byte until its response is sent (a declared body's whole length as "
        "soon as its head is in); a request that does not fit gets 503 with Retry-After.",
    )
    max_in_flight: int = Field(
        64, ge=1, description="Requests handled at once; beyond it, 503 with Retry-After."
    )
    request_timeout_seconds: float = Field(
        30.0, gt=0, description="Deadline of a request; past it, 504 and the work is abandoned."
    )
    client_timeout_seconds: float = Field(
        10.0,
        gt=0,
        description="A client must send a request's headers, then its body, within this many "
        "seconds each (the head from its first byte; on a new connection, from its opening); past "
        "it, 408 and the connection is closed.",
    )
    max_header_bytes: int = Field(
        64 * 1024,
        ge=1024,
        description="Largest request head (request line and headers); larger: 431 and the "
        "connection is closed.",
    )
    compute_workers: int = Field(
        0,
        ge=0,
        description="Worker processes (and threads) for decoding, preprocessing and large "
        "batches; 0: one per CPU this process may run on (its affinity, so taskset and cpusets "
        "count).",
    )
    cors_origins: list[str] = Field(
        [],
        description="Origins allowed by CORS, as JSON ('[\"https://a.example\"]'); none: CORS off.",
    )
    # Server-side micro-batching (app/core/batching.py): concurrent requests to one model version
    # are scored in one runtime call.
    batching: bool = Field(False, description="Batch concurrent predict calls per model.")
    max_batch_size: int = Field(
        32, ge=1, description="Most rows scored in one batched runtime call."
    )
    max_latency_ms: float = Field(
        2.0, ge=0, description="Longest a batch waits for more requests before it is scored."
    )
    # Payload capture (app/observability/payloads.py): what was asked and answered, off the
    # request path.
    payload_log: str | None = Field(
        None,
        description="Where captured requests go: a folder (JSON Lines segments) or an http(s) "
        "URL (CloudEvents, as KServe's payload logger sends them); unset: nothing is captured.",
    )
    payload_sample: float = Field(
        1.0, ge=0, le=1, description="The fraction of predict requests captured, drawn at random."
    )
    payload_images: Literal["digit", "sha256"] = Field(
        "digit",
        description="Image inputs in a capture: the 28x28 digit the model saw, or only the "
        "SHA-256 of its values (float32, little-endian).",
    )
    payload_queue_rows: int = Field(
        4096,
        ge=1,
        description="Rows of captured requests waiting to be written; beyond, captures are "
        "dropped (and counted in serving_payloads_dropped_total), never waited for.",
    )
    payload_segment_bytes: int = Field(
        64 * 1024 * 1024,
        ge=1024,
        description="Folder: the size at which a segment is closed and a new one begun.",
    )
    payload_segment_seconds: float = Field(
        3600.0, gt=0, description="Folder: the age at which a segment is closed, however small."
    )
    payload_max_bytes: int = Field(
        1024 * 1024 * 1024,
        ge=1024,
        description="Folder: the most bytes its segments hold in all; the oldest are removed "
        "(and counted in serving_payload_segments_removed_total).",
    )

    @field_validator("payload_log")
    @classmethod
    def _payload_log(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        if value.lower().startswith(("http://", "https://")):
            host = value.split("://", 1)[1].split("/", 1)[0].rsplit("@", 1)[-1]
            if not host or any(c in value for c in " \t\r\n"):
                raise ValueError("an http(s) URL needs a host, and no blanks")
        return value
