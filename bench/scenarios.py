"""What the benchmark measures: each scenario's request, server and concurrency."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench import payloads
from bench.load import Request

JSON = "application/json"
FLOOR = "floor"
TWO_CORES = "mnist-cnn, 280x280 RGBA PNG upload, two cores"
TWO_WORKERS = "iris-logistic-regression, 1 row, two workers on two cores"
# Not wrk scenarios, but chosen with --only by these names all the same.
HOSTILE = "hostile load: /health/live during 16-MP PNG uploads"
PEAK_MEMORY = "peak memory: 8 worst-case requests in flight"
FLOODS = "hostile connections: /health/live and RSS during body and head floods"
VICTIMS = "hostile victims: liveness and another model's latency under tiny images and batches"
IRIS = "iris-logistic-regression, 1 row"
IRIS_V2 = "iris-logistic-regression, 1 row, V2 JSON"
IRIS_TFSERVING = "iris-logistic-regression, 1 row, TF Serving :predict"
BATCH_JSON = "mnist-mlp, 64 images UINT8 [64, 28, 28], V2 JSON"
BATCH_BINARY = "mnist-mlp, 64 images UINT8 [64, 28, 28], V2 binary"
SHADOW_ON = "iris-logistic-regression, 1 row, production shadowed by a copy"
SHADOW_OFF = "iris-logistic-regression, 1 row, version 1 pinned (no shadow)"
# With --baseline, these are also sent to an earlier commit's server, side by side.
AGAINST_BASELINE = frozenset(
    {IRIS, "mnist-cnn, 28x28 PNG upload", "mnist-cnn, 280x280 RGBA PNG upload"}
)


@dataclass(frozen=True)
class Scenario:
    """One request sent by `connections` clients to one of the run's servers."""

    name: str
    # "floor", "app" (batching off, CPU 0), "batching" (batching on), "two-cores" (CPUs 0 and
    # 1), "two-workers" (SERVING_WORKERS=2 on CPUs 0 and 1) or "shadow" (bench/shadow.py's
    # registry, CPU 0)
    server: str
    request: Request
    concurrency: tuple[int, ...] = (1, 16)
    # Another scenario whose request goes to the same server in each round, side by side: the
    # same rows in another dialect or encoding; the row shows this one against it.
    against: str | None = None
    against_label: str = ""  # how the report names it


def predict(model: str, rows: list[list[float]] | list[list[int]]) -> Request:
    return Request(f"/v1/models/{model}/predict", payloads.json_body(rows), JSON)


def upload(model: str, image: bytes) -> Request:
    body, content_type = payloads.multipart(image)
    return Request(f"/v1/models/{model}/predict/image", body, content_type)


def infer(model: str, body: bytes, header_length: int | None = None) -> Request:
    """A V2 infer request; with `header_length`, its JSON header is followed by binary data."""
    if header_length is None:
        return Request(f"/v2/models/{model}/infer", body, JSON)
    headers = (("Inference-Header-Content-Length", str(header_length)),)
    return Request(f"/v2/models/{model}/infer", body, "application/octet-stream", headers)


def build(mnist_dir: Path | None) -> list[Scenario]:
    digit = payloads.mnist_digit(mnist_dir)
    digits = payloads.mnist_digits(mnist_dir, 64)
    pixels = [digit.reshape(-1).tolist()]
    floor = Request("/floor", payloads.json_body(payloads.iris_rows(1)), JSON)
    return [
        Scenario(FLOOR, "floor", floor),
        Scenario(
            "iris-logistic-regression, 1 row",
            "app",
            predict("iris-logistic-regression", payloads.iris_rows(1)),
        ),
        Scenario(
            IRIS_V2,
            "app",
            infer("iris-logistic-regression", payloads.v2_json(payloads.iris_rows(1), "FP32")),
            concurrency=(16,),
            against=IRIS,
            against_label="native",
        ),
        Scenario(
            IRIS_TFSERVING,
            "app",
            Request(
                "/v1/models/iris-logistic-regression:predict",
                payloads.json_body(payloads.iris_rows(1)),
                JSON,
            ),
            concurrency=(16,),
            against=IRIS,
            against_label="native",
        ),
        Scenario(
            BATCH_JSON,
            "app",
            infer("mnist-mlp", payloads.v2_json(digits.tolist(), "UINT8")),
            concurrency=(16,),
        ),
        Scenario(
            BATCH_BINARY,
            "app",
            infer("mnist-mlp", *payloads.v2_binary(digits)),
            concurrency=(16,),
            against=BATCH_JSON,
            against_label="V2 JSON",
        ),
        Scenario(
            "iris-random-forest, 1 row", "app", predict("iris-random-forest", payloads.iris_rows(1))
        ),
        Scenario(
            "iris-logistic-regression, 64 rows",
            "app",
            predict("iris-logistic-regression", payloads.iris_rows(64)),
        ),
        Scenario("mnist-mlp, 1 row (784 numbers)", "app", predict("mnist-mlp", pixels)),
        Scenario("mnist-cnn, 1 row (784 numbers)", "app", predict("mnist-cnn", pixels)),
        Scenario(
            "mnist-cnn, 28x28 PNG upload", "app", upload("mnist-cnn", payloads.digit_png_28(digit))
        ),
        Scenario(
            "mnist-cnn, 280x280 RGBA PNG upload",
            "app",
            upload("mnist-cnn", payloads.digit_png_280_rgba(digit)),
        ),
        Scenario("mnist-cnn, 1 row, batching on", "batching", predict("mnist-cnn", pixels)),
        Scenario(
            SHADOW_OFF,
            "shadow",
            Request(
                "/v1/models/iris-logistic-regression/versions/1/predict",
                payloads.json_body(payloads.iris_rows(1)),
                JSON,
            ),
            concurrency=(16,),
        ),
        Scenario(
            SHADOW_ON,
            "shadow",
            predict("iris-logistic-regression", payloads.iris_rows(1)),
            concurrency=(16,),
            against=SHADOW_OFF,
            against_label="no shadow",
        ),
        # Against the same request to the one-core server; one client leaves a second core idle.
        Scenario(
            TWO_CORES,
            "two-cores",
            upload("mnist-cnn", payloads.digit_png_280_rgba(digit)),
            concurrency=(16,),
        ),
        # One event loop is what a one-row request is bound by: a second uvicorn worker (its
        # own loop and its own copy of every model) against the one-core server.
        Scenario(
            TWO_WORKERS,
            "two-workers",
            predict("iris-logistic-regression", payloads.iris_rows(1)),
            concurrency=(16,),
        ),
    ]


def chosen(name: str, only: list[str] | None) -> bool:
    """Whether --only picks the scenario `name` (no --only: all of them)."""
    return not only or any(text in name for text in only)
