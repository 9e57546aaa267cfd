"""python -m bench: real uvicorn servers on a trained registry, driven by wrk over loopback."""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import scenarios as scenario_list
from bench.load import LoadResult, check, ensure_wrk, median_result, run_wrk
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
        "--seconds", type=float, default=4.0, help="length of each measurement (default: 4)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="floor-then-scenario measurements per scenario and concurrency; the table shows "
        "their medians (default: 3)",
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
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be at least 1 and --seconds above 0")
    return args


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
    label: str = "",
) -> LoadResult:
    """One measurement, after a short warm-up at the same concurrency."""
    run_wrk(server.base_url, scenario.request, connections, WARMUP_SECONDS, cpu)
    result = run_wrk(server.base_url, scenario.request, connections, seconds, cpu)
    name = f"{scenario.name} ({label})" if label else scenario.name
    say(
        f"  {name:<38} c{connections:<2} {result.requests_per_second:>8.0f} req/s "
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

    def measure(
        server: Server,
        floor_server: Server,
        scenario: scenario_list.Scenario,
        baseline: Server | None = None,
    ) -> None:
        """Each concurrency, `rounds` times: the floor, then the scenario. Each ratio is to the
        floor run just before, so the machine's drift (it is shared) cancels out; the row shows
        the median of the rounds, so one disturbed run does not decide it. With a `baseline`
        server (batching off), the same request goes to it between the floor and the scenario,
        and the row also gets the median of scenario / baseline."""
        check(server.base_url, scenario.request)
        for connections in scenario.concurrency:
            results, rps_ratios, p99_ratios, gains, p99_gains = [], [], [], [], []
            for _ in range(args.rounds):
                base = run(floor_server, floor, connections, args.seconds, load_cpu)
                floors[connections].append(base)
                before = None
                if baseline is not None:
                    before = run(baseline, scenario, connections, args.seconds, load_cpu, "off")
                result = run(server, scenario, connections, args.seconds, load_cpu)
                results.append(result)
                rps_ratios.append(result.requests_per_second / base.requests_per_second)
                p99_ratios.append(result.p99_ms / base.p99_ms)
                if before is not None:
                    gains.append(result.requests_per_second / before.requests_per_second)
                    p99_gains.append(result.p99_ms / before.p99_ms)
            rows.append(
                Row(
                    scenario.name,
                    connections,
                    median_result(results),
                    statistics.median(rps_ratios),
                    statistics.median(p99_ratios),
                    statistics.median(gains) if gains else None,
                    statistics.median(p99_gains) if p99_gains else None,
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
                # Both servers stay up: batching on and off are measured side by side.
                with serve(
                    "app.main:create_app",
                    BATCHING_PORT,
                    {**app_env, "SERVING_BATCHING": "true"},
                    server_cpu,
                    "/health/ready",
                    expected,
                ) as batching_server:
                    for scenario in scenarios:
                        if scenario.server == "batching":
                            measure(batching_server, floor_server, scenario, baseline=server)

    floor_rows = []
    for connections, runs in floors.items():
        floor_rows.append(
            Row(
                f"{floor.name} (median of {len(runs)} runs)", connections, median_result(runs), 1, 1
            )
        )
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
        f"registry: {args.models_dir} ({expected} model versions); {args.seconds:g} s per run, "
        f"{args.rounds} rounds; x floor = median over the rounds of the ratio to the floor run "
        "just before; the floor ranged "
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
        "rounds": args.rounds,
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
