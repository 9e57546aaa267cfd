"""The issue's targets, checked against one run's rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.report import Row

COLD_START_SECONDS = 3.0
RESIDENT_MB = 600.0


@dataclass(frozen=True)
class Verdict:
    target: str
    measured: str
    met: bool


def _find(rows: list[Row], scenario: str, connections: int) -> Row | None:
    return next((r for r in rows if r.scenario == scenario and r.connections == connections), None)


def _ratio(name: str, scenario: str, least: float) -> Callable[[list[Row]], Verdict | None]:
    def check(rows: list[Row]) -> Verdict | None:
        row = _find(rows, scenario, 16)
        if row is None:
            return None
        return Verdict(
            f"{name}: >= {least} x floor req/s", f"{row.rps_ratio:.2f} x", row.rps_ratio >= least
        )

    return check


def _iris_p99(rows: list[Row]) -> Verdict | None:
    row = _find(rows, "iris-logistic-regression, 1 row", 16)
    if row is None:
        return None
    return Verdict("Iris c16 p99: <= 2 x floor p99", f"{row.p99_ratio:.2f} x", row.p99_ratio <= 2)


def _batching(rows: list[Row]) -> Verdict | None:
    """On against off, measured side by side in each round (the machine drifts)."""
    on = _find(rows, "mnist-cnn, 1 row, batching on", 16)
    if on is None or on.rps_versus_off is None or on.p99_versus_off is None:
        return None
    gain, p99 = on.rps_versus_off, on.p99_versus_off
    return Verdict(
        "mnist-cnn c16 batching on/off: >= 1.3 x req/s, p99 <= 2 x",
        f"{gain:.2f} x req/s, p99 {p99:.2f} x",
        gain >= 1.3 and p99 <= 2,
    )


CHECKS = [
    _ratio("one Iris row, iris-logistic-regression, c16", "iris-logistic-regression, 1 row", 0.6),
    _iris_p99,
    _ratio("one MNIST row, mnist-mlp, c16", "mnist-mlp, 1 row (784 numbers)", 0.5),
    _ratio("one 28x28 PNG, mnist-cnn, c16", "mnist-cnn, 28x28 PNG upload", 0.25),
    _batching,
]


def verdicts(rows: list[Row], cold_start_seconds: float, resident_mb: float) -> list[Verdict]:
    found = [v for v in (check(rows) for check in CHECKS) if v is not None]
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
        )
    )
    return found
