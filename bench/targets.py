"""The targets of issues 14, 11 and 10, then the earlier ones, checked against one run's figures."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.liveness import LivenessResult
from bench.memory import MemoryResult
from bench.report import Row
from bench.scenarios import BATCH_BINARY, IRIS, IRIS_V2, SHADOW_ON, TWO_CORES

IRIS_RAW_RATIO = 0.35
LIVE_P99_MS = 20.0
TWO_CORE_GAIN = 1.7
PEAK_MEMORY_MB = 1024.0
COLD_START_SECONDS = 3.0
RESIDENT_MB = 600.0


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool
    earlier: bool = False  # a target from before issue 10, kept as an extra line


def _find(rows: list[Row], scenario: str, connections: int) -> Row | None:
    return next((r for r in rows if r.scenario == scenario and r.connections == connections), None)


def _iris_raw(rows: list[Row]) -> Verdict | None:
    row = _find(rows, IRIS, 16)
    if row is None:
        return None
    return Verdict(
        f"one Iris row, iris-logistic-regression, c16, one core: >= {IRIS_RAW_RATIO} x raw ASGI",
        f"{row.raw_rps_ratio:.2f} x raw ASGI ({row.rps_ratio:.2f} x FastAPI floor)",
        row.raw_rps_ratio >= IRIS_RAW_RATIO,
    )


def _versus(target: str, scenario: str, least: float) -> Callable[[list[Row]], Verdict | None]:
    """Against another server measured side by side in each round (the machine drifts): the
    baseline commit (--baseline), or the one-core server for the two-core one."""

    def check(rows: list[Row]) -> Verdict | None:
        row = _find(rows, scenario, 16)
        if row is None or row.rps_versus is None:
            return None
        return Verdict(target, f"{row.rps_versus:.2f} x", row.rps_versus >= least)

    return check


def _ratio(name: str, scenario: str, least: float) -> Callable[[list[Row]], Verdict | None]:
    def check(rows: list[Row]) -> Verdict | None:
        row = _find(rows, scenario, 16)
        if row is None:
            return None
        return Verdict(
            f"{name}: >= {least} x FastAPI floor req/s",
            f"{row.rps_ratio:.2f} x",
            row.rps_ratio >= least,
            earlier=True,
        )

    return check


def _iris_p99(rows: list[Row]) -> Verdict | None:
    row = _find(rows, IRIS, 16)
    if row is None:
        return None
    return Verdict(
        "Iris c16 p99: <= 2 x FastAPI floor p99",
        f"{row.p99_ratio:.2f} x",
        row.p99_ratio <= 2,
        earlier=True,
    )


def _batching(rows: list[Row]) -> Verdict | None:
    """On against off, measured side by side in each round (the machine drifts)."""
    on = _find(rows, "mnist-cnn, 1 row, batching on", 16)
    if on is None or on.rps_versus is None or on.p99_versus is None:
        return None
    gain, p99 = on.rps_versus, on.p99_versus
    return Verdict(
        "mnist-cnn c16 batching on/off: >= 1.3 x req/s, p99 <= 2 x",
        f"{gain:.2f} x req/s, p99 {p99:.2f} x",
        gain >= 1.3 and p99 <= 2,
        earlier=True,
    )


def _shadow(rows: list[Row]) -> Verdict | None:
    row = _find(rows, SHADOW_ON, 16)
    if row is None or row.p99_versus is None:
        return None
    return Verdict(
        "one Iris row, c16, one core: p99 with a shadow version scoring every request <= 1.1 x "
        "without",
        f"p99 {row.p99_versus:.2f} x ({row.rps_versus:.2f} x req/s)",
        row.p99_versus <= 1.1,
    )


ROW_CHECKS = [
    _shadow,
    _versus(
        "one Iris row over V2 JSON, iris-logistic-regression, c16: >= 0.9 x the native "
        "dialect's req/s",
        IRIS_V2,
        0.9,
    ),
    _versus(
        "64 MNIST images over V2 binary, mnist-mlp, c16: faster than the same as V2 JSON",
        BATCH_BINARY,
        1.0,
    ),
    _iris_raw,
    _versus(
        "one Iris row, iris-logistic-regression, c16, one core: >= 1.0 x the baseline's req/s",
        IRIS,
        1.0,
    ),
    _versus(
        f"280x280 PNG uploads, mnist-cnn, c16: two cores >= {TWO_CORE_GAIN} x one core",
        TWO_CORES,
        TWO_CORE_GAIN,
    ),
    _ratio("one Iris row, iris-logistic-regression, c16", IRIS, 0.6),
    _iris_p99,
    _ratio("one MNIST row, mnist-mlp, c16", "mnist-mlp, 1 row (784 numbers)", 0.5),
    _ratio("one 28x28 PNG, mnist-cnn, c16", "mnist-cnn, 28x28 PNG upload", 0.25),
    _batching,
]


def verdicts(
    rows: list[Row],
    cold_start_seconds: float,
    resident_mb: float,
    liveness: LivenessResult | None = None,
    memory: MemoryResult | None = None,
) -> list[Verdict]:
    """Every target the run has figures for: issue 10's first, then the earlier ones."""
    found = [v for v in (check(rows) for check in ROW_CHECKS) if v is not None]
    if liveness is not None:
        found.append(
            Verdict(
                f"/health/live under hostile load: p99 <= {LIVE_P99_MS:g} ms, every probe 200",
                f"{liveness.p99_ms:.1f} ms ({liveness.probes} probes, "
                f"{liveness.probes_failed} failed)",
                liveness.p99_ms <= LIVE_P99_MS and liveness.probes_failed == 0,
            )
        )
    if memory is not None:
        found.append(
            Verdict(
                f"peak RSS, {memory.in_flight} worst-case requests in flight: "
                f"<= {PEAK_MEMORY_MB / 1024:g} GiB",
                f"{memory.peak_mb:.0f} MiB",
                memory.peak_mb <= PEAK_MEMORY_MB,
            )
        )
    found.append(
        Verdict(
            f"cold start, all models: <= {COLD_START_SECONDS:g} s",
            f"{cold_start_seconds:.2f} s",
            cold_start_seconds <= COLD_START_SECONDS,
        )
    )
    found.append(
        Verdict(
            f"resident memory after load: <= {RESIDENT_MB:g} MB",
            f"{resident_mb:.0f} MB",
            resident_mb <= RESIDENT_MB,
            earlier=True,
        )
    )
    return sorted(found, key=lambda verdict: verdict.earlier)
