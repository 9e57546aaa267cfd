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
    parser.add_argument("--models-dir", type=Path, default=Path("models"),
                        help="the trained registry to serve (default: models/)")
    parser.add_argument("--mnist-dir", type=Path, default=None,
                        help="MNIST IDX files, for the digit sent (default: as python -m training)")
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="length of each measurement (default: 10)")
    parser.add_argument("--only", action="append", metavar="TEXT",
                        help="run only the scenarios whose name contains TEXT (repeatable); "
                        "the floor always runs")
    parser.add_argument("--results-dir", type=Path, default=Path("bench/results"),
                        help="where the JSON file and the chart go (default: bench/results/)")
    return parser.parse_args(argv)


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def count_models(models_dir: Path) -> int:
    """Model versions on disk: what /health/ready must report once everything is loaded."""
    return sum(1 for m in models_dir.iterdir() if m.is_dir() for v in m.iterdir()
               if v.is_dir() and v.name.isdigit())


def measure(server: Server, scenario: scenario_list.Scenario, seconds: float,
            cpu: int | None) -> list[tuple[int, LoadResult]]:
    check(server.base_url, scenario.request)
    results = []
    for connections in scenario.concurrency:
        run_wrk(server.base_url, scenario.request, connections, WARMUP_SECONDS, cpu)
        result = run_wrk(server.base_url, scenario.request, connections, seconds, cpu)
        say(f"  {scenario.name:<38} c{connections:<2} {result.requests_per_second:>8.0f} req/s "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms")
        results.append((connections, result))
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    ensure_wrk()
    two_cores = (os.cpu_count() or 1) >= 2
    server_cpu, load_cpu = (0, 1) if two_cores else (None, None)
    pinning = ("server pinned to CPU 0 (taskset), wrk to CPU 1" if two_cores
               else "one core: server and wrk share it (not pinned)")
    expected = count_models(args.models_dir)
    scenarios = [s for s in scenario_list.build(args.mnist_dir)
                 if not args.only or s.name == scenario_list.FLOOR
                 or any(text in s.name for text in args.only)]
    app_env = {"SERVING_MODELS_DIR": str(args.models_dir.resolve()), "SERVING_LOG_LEVEL": "warning"}
    say(f"benchmark: {expected} model versions in {args.models_dir}, {args.seconds:g} s a run, "
        f"{pinning}")
    raw: dict[str, list[tuple[int, LoadResult]]] = {}
    floors: list[list[tuple[int, LoadResult]]] = []
    floor = next(s for s in scenarios if s.name == scenario_list.FLOOR)

    def floor_run() -> None:
        with serve("bench.floor:create_app", FLOOR_PORT, {}, server_cpu, "/docs") as server:
            floors.append(measure(server, floor, args.seconds, load_cpu))

    floor_run()
    with serve("app.main:create_app", APP_PORT, {**app_env, "SERVING_BATCHING": "false"},
               server_cpu, "/health/ready", expected) as server:
        cold_start = server.ready_seconds
        say(f"  cold start: {cold_start:.2f} s to /health/ready with {expected} models")
        for scenario in scenarios:
            if scenario.server == "app":
                raw[scenario.name] = measure(server, scenario, args.seconds, load_cpu)
        resident_mb = server.rss_mb()
    if any(s.server == "batching" for s in scenarios):
        with serve("app.main:create_app", BATCHING_PORT, {**app_env, "SERVING_BATCHING": "true"},
                   server_cpu, "/health/ready", expected) as server:
            for scenario in scenarios:
                if scenario.server == "batching":
                    raw[scenario.name] = measure(server, scenario, args.seconds, load_cpu)
    floor_run()  # again at the end: the floor is the mean of both, and its drift is shown

    floor_by_c = {}
    for connections in floor.concurrency:
        runs = [dict(run)[connections] for run in floors]
        floor_by_c[connections] = LoadResult(
            requests_per_second=sum(r.requests_per_second for r in runs) / len(runs),
            p50_ms=sum(r.p50_ms for r in runs) / len(runs),
            p99_ms=sum(r.p99_ms for r in runs) / len(runs),
            requests=sum(r.requests for r in runs),
            errors=sum(r.errors for r in runs),
        )
    rows = [Row(floor.name, c, r, 1.0, 1.0) for c, r in floor_by_c.items()]
    for name, results in raw.items():
        for connections, result in results:
            base = floor_by_c[connections]
            rows.append(Row(name, connections, result, result.requests_per_second /
                            base.requests_per_second, result.p99_ms / base.p99_ms))
    drift = [dict(run)[16].requests_per_second for run in floors]

    info = machine()
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    say("")
    say(f"machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB, "
        f"Linux {info['kernel']}, Python {info['python']}; {pinning}")
    say(f"registry: {args.models_dir} ({expected} model versions); {args.seconds:g} s per run; "
        f"floor c16 at start {drift[0]:.0f} req/s, at end {drift[-1]:.0f} req/s")
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
        "finished_at": stamp, "machine": info, "pinning": pinning,
        "models_dir": str(args.models_dir), "model_versions": expected,
        "seconds_per_run": args.seconds, "floor_c16_drift": drift,
        "cold_start_seconds": round(cold_start, 3), "resident_mb": round(resident_mb, 1),
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
