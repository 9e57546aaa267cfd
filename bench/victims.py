"""Who waits while others attack: wrk keeps a hostile load going while a prober times, on its
own connection, either /health/live (the event loop must stay free) or a small request to
another model (the pools must be shared fairly), with the targets beside the figures."""

from __future__ import annotations

import io
import json
import math
import threading
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from bench.liveness import RAMP_SECONDS, percentile, probe
from bench.load import Request, wrk
from bench.scenarios import predict


@dataclass(frozen=True)
class Attack:
    """A hostile load, what is timed meanwhile, and the target for its p99."""

    name: str
    load: Request
    clients: int
    probe: Request | None  # None: GET /health/live
    probe_name: str
    target_p99_ms: float


@dataclass(frozen=True)
class VictimResult:
    attack: Attack
    probes: int
    probes_failed: int
    p50_ms: float
    p99_ms: float
    load_per_second: float
    load_errors: int


def tiny_webps(count: int = 1024) -> Request:
    """One V2 request of `count` 4x4 WebP images as BYTES in binary, each a dark stroke on
    white (a blank one would be refused before the others are read): about 64 KB in all."""
    picture = Image.new("L", (4, 4), 255)
    for xy in ((1, 0), (1, 1), (1, 2), (1, 3), (2, 1)):
        picture.putpixel(xy, 0)
    buffer = io.BytesIO()
    picture.save(buffer, "WEBP", lossless=True)
    image = buffer.getvalue()
    data = b"".join(len(image).to_bytes(4, "little") + image for _ in range(count))
    header = json.dumps(
        {
            "inputs": [
                {
                    "name": "input",
                    "shape": [count],
                    "datatype": "BYTES",
                    "parameters": {"binary_data_size": len(data)},
                }
            ]
        }
    ).encode()
    headers = (("Inference-Header-Content-Length", str(len(header))),)
    return Request("/v2/models/mnist-cnn/infer", header + data, "application/octet-stream", headers)


def pixel_batch(model: str, rows: int) -> Request:
    """`rows` random 28x28 digits as JSON rows of 784 pixels (seeded)."""
    return predict(model, np.random.default_rng(rows).integers(0, 256, (rows, 784)).tolist())


def attacks() -> list[Attack]:
    victim = pixel_batch("mnist-cnn", 8)
    return [
        Attack("1,024 4x4 WebPs in one V2 request", tiny_webps(), 16, None, "/health/live", 50),
        Attack(
            "256-row mnist-cnn batches (its interpreter busy in threads)",
            pixel_batch("mnist-cnn", 256),
            4,
            None,
            "/health/live",
            50,
        ),
        Attack(
            "1,024-row mnist-knn batches",
            pixel_batch("mnist-knn", 1024),
            3,
            victim,
            "an 8-row mnist-cnn request",
            100,
        ),
    ]


def measure_victim(
    base_url: str, attack: Attack, seconds: float, load_cpu: int | None
) -> VictimResult:
    summaries: list[dict[str, float]] = []

    def load() -> None:
        summaries.append(
            wrk(base_url, attack.load, attack.clients, seconds + 2 * RAMP_SECONDS, load_cpu)
        )

    loader = threading.Thread(target=load, name="attack")
    loader.start()
    time.sleep(RAMP_SECONDS)
    latencies, failed = probe(base_url, seconds, None, attack.probe)
    loader.join()
    summary = summaries[0] if summaries else {"requests": 0, "duration_us": 1, "errors": 0}
    return VictimResult(
        attack=attack,
        probes=len(latencies),
        probes_failed=failed,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
        load_per_second=summary["requests"] / max(summary["duration_us"] / 1e6, 1e-9),
        load_errors=int(summary["errors"]),
    )


def victim_line(result: VictimResult) -> str:
    attack = result.attack
    met = "met" if result.p99_ms <= attack.target_p99_ms else "NOT met"
    p99 = "nan" if math.isnan(result.p99_ms) else f"{result.p99_ms:.1f}"
    return (
        f"{attack.name}, {attack.clients} clients ({result.load_per_second:.1f}/s, "
        f"{result.load_errors} errors): {attack.probe_name} p50 {result.p50_ms:.1f} ms, p99 "
        f"{p99} ms (target <= {attack.target_p99_ms:g}: {met}; {result.probes} probes, "
        f"{result.probes_failed} failed)"
    )
