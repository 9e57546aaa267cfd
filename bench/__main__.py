"""python -m bench: real uvicorn servers on a trained registry, driven by wrk over loopback."""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import scenarios as scenario_list
from bench.load import LoadResult, check, ensure_wrk, run_wrk
from bench.report import Row, machine, table, write_chart, write_json
from bench.servers import Server, serve
from bench.targets import verdicts

FLOOR_PORT, APP_PORT, BATCHING_PORT = 8701, 8702, 8703
WARMUP_SECONDS = 1.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark the server on a trained registry: requests/s and p50/p99 latency "
        "of each scenario at 1 and 16 clients, as ratios to a bare FastAPI route measured in "
        "the same run; cold start and resident memory with every model loaded.",
    )
    parser.add_argument(
        "--models-dir",
        type=Path,
        default=Path("models"),
        help="the trained registry to serve (default: models/)",
    )
    parser.add_argument(
        "--mnist-dir",
        type=Path,
        default=None,
        help="MNIST IDX files, for the digit sent (default: as python -m training)",
    )
    parser.add_argument(
        "--seconds", type=float, default=8.0, help="length of each measurement (default: 8)"
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="run only the scenarios whose name contains TEXT (repeatable); the floor always runs",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("bench/results"),
        help="where the JSON file and the chart go (default: bench/results/)",
    )
    return parser.parse_args(argv)


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def count_models(models_dir: Path) -> int:
    """Model versions on disk: what /health/ready must report once everything is loaded."""
    return sum(
        1
        for m in models_dir.iterdir()
        if m.is_dir()
        for v in m.iterdir()
        if v.is_dir() and v.name.isdigit()
    )


def run(
    server: Server,
    scenario: scenario_list.Scenario,
    connections: int,
    seconds: float,
    cpu: int | None,
) -> LoadResult:
    """One measurement, after a short warm-up at the same concurrency."""
    run_wrk(server.base_url, scenario.request, connections, WARMUP_SECONDS, cpu)
    result = run_wrk(server.base_url, scenario.request, connections, seconds, cpu)
    say(
        f"  {scenario.name:<38} c{connections:<2} {result.requests_per_second:>8.0f} req/s "
        f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
    )
    return result


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_wrk()
    two_cores = (os.cpu_count() or 1) >= 2
    server_cpu, load_cpu = (0, 1) if two_cores else (None, None)
    pinning = (
        "server pinned to CPU 0 (taskset), wrk to CPU 1"
        if two_cores
        else "one core: server and wrk share it (not pinned)"
    )
    expected = count_models(args.models_dir)
    scenarios = [
        s
        for s in scenario_list.build(args.mnist_dir)
        if not args.only
        or s.name == scenario_list.FLOOR
        or any(text in s.name for text in args.only)
    ]
    floor = next(s for s in scenarios if s.name == scenario_list.FLOOR)
    app_env = {"SERVING_MODELS_DIR": str(args.models_dir.resolve()), "SERVING_LOG_LEVEL": "warning"}
    say(
        f"benchmark: {expected} model versions in {args.models_dir}, {args.seconds:g} s a run, "
        f"{pinning}; the floor is measured right before each scenario"
    )
    rows: list[Row] = []
    floors: dict[int, list[LoadResult]] = {c: [] for c in floor.concurrency}

    def measure(server: Server, floor_server: Server, scenario: scenario_list.Scenario) -> None:
        """Each concurrency: the floor, then the scenario; the ratio is to that floor run, so
        the machine's drift over the run (it is shared) cancels out."""
        check(server.base_url, scenario.request)
        for connections in scenario.concurrency:
            base = run(floor_server, floor, connections, args.seconds, load_cpu)
            floors[connections].append(base)
            result = run(server, scenario, connections, args.seconds, load_cpu)
            rows.append(
                Row(
                    scenario.name,
                    connections,
                    result,
                    result.requests_per_second / base.requests_per_second,
                    result.p99_ms / base.p99_ms,
                )
            )

    with serve("bench.floor:create_app", FLOOR_PORT, {}, server_cpu, "/docs") as floor_server:
        check(floor_server.base_url, floor.request)
        with serve(
            "app.main:create_app",
            APP_PORT,
            {**app_env, "SERVING_BATCHING": "false"},
            server_cpu,
            "/health/ready",
            expected,
        ) as server:
            cold_start = server.ready_seconds
            say(f"  cold start: {cold_start:.2f} s to /health/ready with {expected} models")
            for scenario in scenarios:
                if scenario.server == "app":
                    measure(server, floor_server, scenario)
            resident_mb = server.rss_mb()
        if any(s.server == "batching" for s in scenarios):
            with serve(
                "app.main:create_app",
                BATCHING_PORT,
                {**app_env, "SERVING_BATCHING": "true"},
                server_cpu,
                "/health/ready",
                expected,
            ) as server:
                for scenario in scenarios:
                    if scenario.server == "batching":
                        measure(server, floor_server, scenario)

    floor_rows = []
    for connections, runs in floors.items():
        mean = LoadResult(
            requests_per_second=sum(r.requests_per_second for r in runs) / len(runs),
            p50_ms=sum(r.p50_ms for r in runs) / len(runs),
            p99_ms=sum(r.p99_ms for r in runs) / len(runs),
            requests=sum(r.requests for r in runs),
            errors=sum(r.errors for r in runs),
        )
        floor_rows.append(Row(f"{floor.name} (mean of {len(runs)} runs)", connections, mean, 1, 1))
    rows = floor_rows + rows
    drift = {
        c: [
            round(min(r.requests_per_second for r in runs)),
            round(max(r.requests_per_second for r in runs)),
        ]
        for c, runs in floors.items()
    }

    info = machine()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    say("")
    say(
        f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, "
        f"Linux {info['kernel']}, Python {info['python']}; {pinning}"
    )
    say(
        f"registry: {args.models_dir} ({expected} model versions); {args.seconds:g} s per run; "
        "x floor = ratio to the floor run just before; the floor ranged "
        + ", ".join(f"{low}-{high} req/s at c{c}" for c, (low, high) in drift.items())
    )
    say("")
    say(table(rows))
    say("")
    say(f"cold start (process start to /health/ready, {expected} models): {cold_start:.2f} s")
    say(f"resident memory after the load, {expected} models loaded: {resident_mb:.0f} MB")
    say("")
    results = verdicts(rows, cold_start, resident_mb)
    for verdict in results:
        say(f"  {'met    ' if verdict.met else 'NOT MET'}  {verdict.target}: {verdict.measured}")
    extra = {
        "finished_at": stamp,
        "machine": info,
        "pinning": pinning,
        "models_dir": str(args.models_dir),
        "model_versions": expected,
        "seconds_per_run": args.seconds,
        "floor_range_rps": drift,
        "cold_start_seconds": round(cold_start, 3),
        "resident_mb": round(resident_mb, 1),
        "targets": [vars(v) for v in results],
    }
    json_path = args.results_dir / f"bench-{stamp}.json"
    chart_path = args.results_dir / f"bench-{stamp}.png"
    write_json(json_path, rows, extra)
    write_chart(chart_path, rows, f"{info['cpu']}, {info['cores']} cores; {pinning}")
    say(f"\nwrote {json_path} and {chart_path}")
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    sys.stdout.write(f"benchmark took {time.perf_counter() - started:.0f} s\n")
    raise SystemExit(code)
