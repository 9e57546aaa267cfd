"""The benchmark's outputs: a table on stdout, a JSON file, a bar chart of the ratios."""

from __future__ import annotations

import json
import os
import platform
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench.load import LoadResult


@dataclass(frozen=True)
class Row:
    """One scenario at one concurrency, and its ratios to the floor at that concurrency."""

    scenario: str
    connections: int
    result: LoadResult
    rps_ratio: float
    p99_ratio: float
    # Against the same request to the batching-off server, measured alongside (batching only).
    rps_versus_off: float | None = None
    p99_versus_off: float | None = None


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


def table(rows: list[Row]) -> str:
    header = (
        f"| {'scenario':<36} | {'c':>2} | {'req/s':>7} | {'x floor':>7} | {'p50 ms':>6} "
        f"| {'p99 ms':>6} | {'p99 x floor':>11} |"
    )
    lines = [
        header,
        "|" + "|".join("-" * (len(cell) + 0) for cell in header.split("|")[1:-1]) + "|",
    ]
    for row in rows:
        r = row.result
        errors = f" ({r.errors} errors)" if r.errors else ""
        lines.append(
            f"| {row.scenario + errors:<36} | {row.connections:>2} | {r.requests_per_second:>7.0f} "
            f"| {row.rps_ratio:>7.2f} | {r.p50_ms:>6.2f} | {r.p99_ms:>6.2f} "
            f"| {row.p99_ratio:>11.2f} |"
        )
    return "\n".join(lines)


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
                **(
                    {
                        "rps_versus_off": round(row.rps_versus_off, 4),
                        "p99_versus_off": round(row.p99_versus_off or 0, 4),
                    }
                    if row.rps_versus_off is not None
                    else {}
                ),
            }
            for row in rows
        ],
    }
    path.write_text(json.dumps(document, indent=2) + "\n")


def write_chart(path: Path, rows: list[Row], title: str) -> None:
    """Requests/s as a multiple of the floor, one bar per scenario and concurrency."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = sorted({row.scenario for row in rows}, key=[row.scenario for row in rows].index)
    figure, axes = plt.subplots(figsize=(10, 0.45 * len(names) + 1.5))
    height = 0.4
    for offset, connections in enumerate(sorted({row.connections for row in rows})):
        ratios = {row.scenario: row.rps_ratio for row in rows if row.connections == connections}
        positions = [i + offset * height for i, name in enumerate(names) if name in ratios]
        values = [ratios[name] for name in names if name in ratios]
        bars = axes.barh(positions, values, height, label=f"{connections} client(s)")
        axes.bar_label(bars, fmt="%.2f", padding=2, fontsize=8)
    axes.set_yticks([i + height / 2 for i in range(len(names))], names, fontsize=8)
    axes.invert_yaxis()
    axes.axvline(1.0, color="grey", linewidth=0.8)
    axes.set_xlabel("requests/s as a multiple of the floor (bare FastAPI route), same run")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=8)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    plt.close(figure)
