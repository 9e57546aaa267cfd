"""The benchmark's outputs: a table on stdout, a JSON file, a bar chart of the ratios."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.liveness import PROBE_TIMEOUT_SECONDS, LivenessResult
from bench.load import LoadResult
from bench.memory import MemoryResult


@dataclass(frozen=True)
class Row:
    """One scenario at one concurrency, and its ratios to both floors at that concurrency."""

    scenario: str
    connections: int
    result: LoadResult
    rps_ratio: float  # x the FastAPI floor
    p99_ratio: float
    raw_rps_ratio: float  # x the raw ASGI floor
    raw_p99_ratio: float
    # Against the same request to a baseline server measured alongside: what it was
    # ("batching off", "one core") and the ratios to it.
    versus: str | None = None
    rps_versus: float | None = None
    p99_versus: float | None = None


def machine() -> dict[str, Any]:
    """Enough about the machine to compare runs: CPU model, cores, memory, kernel, Python."""
    cpu = "unknown"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(memory_gb, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
    }


def _versus(row: Row) -> str:
    if row.versus is None or row.rps_versus is None or row.p99_versus is None:
        return ""
    return f"{row.rps_versus:.2f} x {row.versus}, p99 {row.p99_versus:.2f} x"


def table(rows: list[Row]) -> str:
    """A Markdown table: req/s as multiples of both floors, latency, and any baseline ratio."""
    names = [
        row.scenario + (f" ({row.result.errors} errors)" if row.result.errors else "")
        for row in rows
    ]
    width = max([36, *map(len, names)])
    versus = [_versus(row) for row in rows]
    versus_width = max([11, *map(len, versus)])
    header = (
        f"| {'scenario':<{width}} | {'c':>2} | {'req/s':>7} | {'x FastAPI':>9} "
        f"| {'x raw ASGI':>10} | {'p50 ms':>6} | {'p99 ms':>7} | {'p99 x FastAPI':>13} "
        f"| {'vs baseline':<{versus_width}} |"
    )
    lines = [header, "|" + "|".join("-" * len(cell) for cell in header.split("|")[1:-1]) + "|"]
    for row, name, baseline in zip(rows, names, versus, strict=True):
        r = row.result
        lines.append(
            f"| {name:<{width}} | {row.connections:>2} | {r.requests_per_second:>7.0f} "
            f"| {row.rps_ratio:>9.2f} | {row.raw_rps_ratio:>10.2f} | {r.p50_ms:>6.2f} "
            f"| {r.p99_ms:>7.2f} | {row.p99_ratio:>13.2f} | {baseline:<{versus_width}} |"
        )
    return "\n".join(lines)


def liveness_lines(result: LivenessResult) -> list[str]:
    """The hostile-load figures: the probes' latencies, then what the uploads got."""
    statuses = ", ".join(f"{count} x {status}" for status, count in result.upload_statuses.items())
    return [
        f"/health/live during {result.upload_clients} clients uploading 16-MP PNGs: "
        f"{result.probes} probes in {result.probe_seconds:g} s ({result.probes_failed} failed or "
        f"timed out after {PROBE_TIMEOUT_SECONDS:g} s), "
        f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, max {result.max_ms:.1f} ms",
        f"  uploads: {result.uploads_per_second:.1f}/s; statuses: {statuses or 'none answered'}"
        + (
            f"; {result.upload_errors} client errors (timeouts, resets)"
            if result.upload_errors
            else ""
        ),
    ]


def memory_lines(result: MemoryResult) -> list[str]:
    """The peak resident memory of the process tree, then each worst case's answers."""
    lines = [
        f"peak resident memory, {result.in_flight} worst-case requests in flight "
        f"({result.bursts} of {result.bursts_wanted} bursts in {result.seconds:.1f} s): "
        f"{result.peak_mb:.0f} MiB "
        f"(sum of VmHWM over {result.processes} process(es): the server and its children)"
    ]
    for name, statuses in result.statuses.items():
        answers = ", ".join(f"{count} x {status}" for status, count in statuses.items())
        lines.append(f"  {name}: {answers}")
    return lines


def write_json(path: Path, rows: list[Row], extra: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **extra,
        "scenarios": [
            {
                "scenario": row.scenario,
                "connections": row.connections,
                **asdict(row.result),
                "rps_ratio": round(row.rps_ratio, 4),
                "p99_ratio": round(row.p99_ratio, 4),
                "raw_rps_ratio": round(row.raw_rps_ratio, 4),
                "raw_p99_ratio": round(row.raw_p99_ratio, 4),
                **(
                    {
                        "versus": row.versus,
                        "rps_versus": round(row.rps_versus, 4),
                        "p99_versus": round(row.p99_versus or 0, 4),
                    }
                    if row.rps_versus is not None
                    else {}
                ),
            }
            for row in rows
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def write_chart(path: Path, rows: list[Row], title: str) -> None:
    """Requests/s as a multiple of each floor, one bar per scenario and concurrency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({row.scenario for row in rows}, key=[row.scenario for row in rows].index)
    figure, panels = plt.subplots(
        1, 2, figsize=(15, 0.45 * len(names) + 1.5), sharey=True, squeeze=False
    )
    height = 0.4
    floors = (("rps_ratio", "the FastAPI floor"), ("raw_rps_ratio", "the raw ASGI floor"))
    for axes, (field, floor) in zip(panels[0], floors, strict=True):
        for offset, connections in enumerate(sorted({row.connections for row in rows})):
            ratios = {r.scenario: getattr(r, field) for r in rows if r.connections == connections}
            positions = [i + offset * height for i, name in enumerate(names) if name in ratios]
            values = [ratios[name] for name in names if name in ratios]
            bars = axes.barh(positions, values, height, label=f"{connections} client(s)")
            axes.bar_label(bars, fmt="%.2f", padding=2, fontsize=8)
        axes.axvline(1.0, color="grey", linewidth=0.8)
        axes.set_xlabel(f"requests/s as a multiple of {floor}, same round")
        if rows:
            axes.legend(fontsize=8)
    panels[0][0].set_yticks([i + height / 2 for i in range(len(names))], names, fontsize=8)
    panels[0][0].invert_yaxis()
    figure.suptitle(title, fontsize=9)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
