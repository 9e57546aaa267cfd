"""The end of a run: the table and figures on stdout, the targets' verdicts, JSON and chart."""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass
from datetime import UTC, datetime

from bench.liveness import LivenessResult
from bench.memory import MemoryResult
from bench.report import Row, liveness_lines, machine, memory_lines, table, write_chart, write_json
from bench.rounds import say
from bench.targets import verdicts


@dataclass(frozen=True)
class Figures:
    """What one run measured; the hostile-load and memory figures only if they were chosen."""

    rows: list[Row]
    floor_range_rps: dict[str, dict[int, list[int]]]
    cold_start_seconds: float
    resident_mb: float
    liveness: LivenessResult | None
    memory: MemoryResult | None


def summarise(figures: Figures, args: argparse.Namespace, pinning: str, expected: int) -> None:
    """Print the run's figures and verdicts; write the JSON file and the chart."""
    info = machine()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    ranges = "; ".join(
        f"{floor}: " + ", ".join(f"{low}-{high} req/s at c{c}" for c, (low, high) in by_c.items())
        for floor, by_c in figures.floor_range_rps.items()
        if by_c
    )
    say("")
    say(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, "
        f"Linux {info['kernel']}, Python {info['python']}; {pinning}"
    )
    say(
        f"registry: {args.models_dir} ({expected} model versions); {args.seconds:g} s per run, "
        f"{args.rounds} rounds; x FastAPI and x raw ASGI = median over the rounds of the ratio to "
        f"that floor, run just before in the same round; the floors ranged {ranges or '-'}"
    )
    say("")
    say(table(figures.rows))
    say("")
    if figures.liveness is not None:
        say("\n".join(liveness_lines(figures.liveness)))
    if figures.memory is not None:
        say("\n".join(memory_lines(figures.memory)))
    say(
        f"cold start (process start to /health/ready, {expected} models): "
        f"{figures.cold_start_seconds:.2f} s"
    )
    say(
        f"resident memory after the load, {expected} models loaded (the server and its "
        f"children): {figures.resident_mb:.0f} MB"
    )
    say("")
    results = verdicts(
        figures.rows,
        figures.cold_start_seconds,
        figures.resident_mb,
        figures.liveness,
        figures.memory,
    )
    for verdict in results:
        state = "met    " if verdict.met else "NOT MET"
        earlier = " (earlier target)" if verdict.earlier else ""
        say(f"  {state}  {verdict.target}: {verdict.measured}{earlier}")
    document = {
        "finished_at": stamp,
        "machine": info,
        "pinning": pinning,
        "models_dir": str(args.models_dir),
        "model_versions": expected,
        "seconds_per_run": args.seconds,
        "rounds": args.rounds,
        "floor_range_rps": figures.floor_range_rps,
        "cold_start_seconds": round(figures.cold_start_seconds, 3),
        "resident_mb": round(figures.resident_mb, 1),
        "hostile_load": dataclasses.asdict(figures.liveness) if figures.liveness else None,
        "peak_memory": dataclasses.asdict(figures.memory) if figures.memory else None,
        "targets": [vars(v) for v in results],
    }
    json_path = args.results_dir / f"bench-{stamp}.json"
    chart_path = args.results_dir / f"bench-{stamp}.png"
    write_json(json_path, figures.rows, document)
    write_chart(chart_path, figures.rows, f"{info['cpu']}, {info['cores']} cores; {pinning}")
    say(f"\nwrote {json_path} and {chart_path}")
