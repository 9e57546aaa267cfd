"""python -m bench: real uvicorn servers on a trained registry, driven by wrk over loopback."""

from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import time
from pathlib import Path

from bench import hostile, proctree
from bench import scenarios as scenario_list
from bench.floods import flood_lines, measure_floods
from bench.liveness import LivenessResult, measure_liveness
from bench.load import check, ensure_wrk
from bench.memory import BUDGET_SECONDS, MemoryResult, measure_memory
from bench.report import liveness_lines, memory_lines
from bench.rounds import Rounds, say
from bench.scenarios import FLOODS, HOSTILE, PEAK_MEMORY, VICTIMS, chosen
from bench.servers import cpus, serve
from bench.shadow import shadow_registry
from bench.summary import Figures, summarise
from bench.victims import attacks, measure_victim, victim_line
from training.datasets.mnist import MnistNotFoundError

FLOOR_PORT, APP_PORT, BATCHING_PORT, TWO_CORES_PORT, RAW_FLOOR_PORT, MEMORY_PORT = range(8701, 8707)
TWO_WORKERS_PORT = 8710
FLOODS_PORT = 8711
VICTIMS_PORT = 8712
BASELINE_PORT = 8707
SHADOW_PORT = 8708
HOSTILE_CLIENTS = 8
IN_FLIGHT = 8


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        epilog="python -m bench digits --help: the registry scored on digits as people send "
        "them, per style. python -m bench peers --help: one imported pipeline served by us, "
        "MLServer and MLflow, side by side.",
        description="Benchmark the server on a trained registry: requests/s and p50/p99 latency "
        "of each scenario at 1 and 16 clients, as ratios to a bare FastAPI route and a bare ASGI "
        "app measured in the same rounds; two CPUs against one; /health/live under hostile "
        "uploads; the process tree's peak memory with worst-case requests in flight; cold start "
        "and resident memory with every model loaded.",
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
        "--seconds", type=float, default=3.0, help="length of each measurement (default: 3)"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="floors-then-scenario measurements per scenario and concurrency; the table shows "
        "their medians (default: 3)",
    )
    parser.add_argument(
        "--hostile-seconds",
        type=float,
        default=None,
        help="how long /health/live is probed during the hostile uploads "
        "(default: --seconds x --rounds)",
    )
    parser.add_argument(
        "--bursts",
        type=int,
        default=3,
        help=f"times the {IN_FLIGHT} worst-case requests are sent at once for the peak memory; "
        f"none starts after {BUDGET_SECONDS:g} s (default: 3)",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="DIR",
        help="a checkout of an earlier commit (git worktree add DIR REV): its server answers the "
        "same one-row, 28x28 and 280x280 PNG requests between the floors and ours in each "
        "round, and the rows show ours against it",
    )
    parser.add_argument(
        "--only",
        action="append",
        metavar="TEXT",
        help="run only the scenarios whose name contains TEXT (repeatable; 'hostile', 'victims', "
        "'peak memory', 'two cores' and 'two workers' pick the new ones); both floors always "
        "run",
    )
    parser.add_argument(
        "--results-dir",
        type=Path,
        default=Path("bench/results"),
        help="where the JSON file and the chart go (default: bench/results/)",
    )
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.bursts < 1 or args.seconds <= 0:
        parser.error("--rounds and --bursts must be at least 1 and --seconds above 0")
    if args.hostile_seconds is None:
        args.hostile_seconds = args.seconds * args.rounds
    elif args.hostile_seconds <= 0:
        parser.error("--hostile-seconds must be above 0")
    return args


def count_models(models_dir: Path) -> int:
    """Model versions on disk: what /health/ready must report once everything is loaded."""
    return sum(
        1
        for m in models_dir.iterdir()
        if m.is_dir()
        for v in m.iterdir()
        if v.is_dir() and v.name.isdigit()
    )


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["digits"]:
        from bench import digits

        return digits.main(argv[1:])
    if argv[:1] == ["peers"]:
        from bench.peers import command

        return command.main(argv[1:])
    args = parse_args(argv)
    ensure_wrk()
    server_cpu, load_cpu = cpus()
    two_cores = load_cpu is not None  # the two-core server needs two of them
    pinning = (
        "servers pinned to CPU 0 (taskset), wrk to CPU 1"
        if two_cores
        else "one core: server and wrk share it (not pinned)"
    )
    expected = count_models(args.models_dir)
    try:
        built = scenario_list.build(args.mnist_dir)
    except MnistNotFoundError as exc:  # the digit payloads come from the MNIST test images
        sys.stderr.write(f"error: {exc}\n")
        return 2
    scenarios = [s for s in built if s.name == scenario_list.FLOOR or chosen(s.name, args.only)]
    floor = next(s for s in scenarios if s.name == scenario_list.FLOOR)
    app_env = {"SERVING_MODELS_DIR": str(args.models_dir.resolve()), "SERVING_LOG_LEVEL": "warning"}
    say(
        f"benchmark: {expected} model versions in {args.models_dir}, {args.seconds:g} s a run, "
        f"{pinning}; both floors are measured right before each scenario"
    )
    liveness: LivenessResult | None = None
    memory: MemoryResult | None = None

    with (
        serve("bench.floor:create_app", FLOOR_PORT, {}, server_cpu, "/docs") as fastapi_floor,
        serve("bench.floor:create_raw_app", RAW_FLOOR_PORT, {}, server_cpu, "/") as raw_floor,
    ):
        for floor_server in (fastapi_floor, raw_floor):
            check(floor_server.base_url, floor.request)
        rounds = Rounds(fastapi_floor, raw_floor, floor, args.rounds, args.seconds, load_cpu)
        app_server = serve(
            "app.main:create_app",
            APP_PORT,
            {**app_env, "SERVING_BATCHING": "false"},
            server_cpu,
            "/health/ready",
            expected,
        )
        with app_server as server, contextlib.ExitStack() as stack:
            cold_start = server.ready_seconds
            say(f"  cold start: {cold_start:.2f} s to /health/ready with {expected} models")
            baseline = None
            if args.baseline is not None:
                say(f"  baseline: the code in {args.baseline}, on CPU 0 as ours")
                baseline = stack.enter_context(
                    serve(
                        "app.main:create_app",
                        BASELINE_PORT,
                        {**app_env, "SERVING_BATCHING": "false"},
                        server_cpu,
                        "/health/ready",
                        expected,
                        checkout=args.baseline,
                    )
                )
            by_name = {s.name: s for s in scenario_list.build(args.mnist_dir)}
            for scenario in scenarios:
                if scenario.server == "app":
                    if scenario.against is not None:
                        other = by_name[scenario.against]
                        rounds.measure(server, scenario, versus=scenario.against_label, other=other)
                    elif baseline is not None and scenario.name in scenario_list.AGAINST_BASELINE:
                        rounds.measure(server, scenario, baseline, "baseline")
                    else:
                        rounds.measure(server, scenario)
            resident_mb = proctree.rss_mb(server.process.pid)
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
                            rounds.measure(batching_server, scenario, server, "batching off")
            shadow_scenarios = [s for s in scenarios if s.server == "shadow" and s.against]
            if shadow_scenarios:
                folder = stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-shadow-"))
                registry = shadow_registry(args.models_dir, Path(folder))
                say(f"  shadow: {registry} on CPU 0, version 1 shadowed by a copy of itself")
                with serve(
                    "app.main:create_app",
                    SHADOW_PORT,
                    {**app_env, "SERVING_MODELS_DIR": str(registry), "SERVING_BATCHING": "false"},
                    server_cpu,
                    "/health/ready",
                    2,
                ) as shadow_server:
                    for scenario in shadow_scenarios:
                        other = by_name[scenario.against or ""]
                        rounds.measure(shadow_server, scenario, None, scenario.against_label, other)
            # A second server on CPUs 0 and 1, side by side in each round with the one on CPU 0.
            for kind, port, settings, versus, who in (
                ("two-cores", TWO_CORES_PORT, {}, "one core", "a second server"),
                (
                    "two-workers",
                    TWO_WORKERS_PORT,
                    {"SERVING_WORKERS": "2"},
                    "one worker",
                    "a server with SERVING_WORKERS=2",
                ),
            ):
                on_two = [s for s in scenarios if s.server == kind]
                if not on_two:
                    continue
                title = kind.replace("-", " ") + " against " + versus
                if not two_cores:
                    say(f"  {title}: skipped, this process may use only one CPU")
                    continue
                say(
                    f"  {title}: {who} on CPUs 0 and 1 (taskset -c 0,1) against the one on CPU 0; "
                    "wrk pinned to CPU 1 in both cases, so it shares CPU 1 with the server"
                )
                env = {**app_env, "SERVING_BATCHING": "false", **settings}
                with serve(
                    "app.main:create_app", port, env, "0,1", "/health/ready", expected
                ) as two:
                    for scenario in on_two:
                        rounds.measure(two, scenario, server, versus)
                    both = proctree.rss_mb(two.process.pid), proctree.rss_mb(server.process.pid)
                    say(
                        f"    resident memory after the load: {both[0]:.0f} MB on two CPUs, "
                        f"{both[1]:.0f} MB on one (each tree with its compute processes)"
                    )
            if chosen(HOSTILE, args.only):
                where = "pinned to CPU 1" if two_cores else "not pinned"
                say(
                    f"  {HOSTILE}: {HOSTILE_CLIENTS} wrk clients, one probe every ~15 ms on its "
                    f"own connection for {args.hostile_seconds:g} s; wrk and the prober {where}"
                )
                upload = scenario_list.upload("mnist-cnn", hostile.bar_png())
                liveness = measure_liveness(
                    server.base_url, upload, HOSTILE_CLIENTS, args.hostile_seconds, load_cpu
                )
                for line in liveness_lines(liveness):
                    say("    " + line)

    if chosen(PEAK_MEMORY, args.only):
        cases = hostile.worst_cases()
        say(
            f"  {PEAK_MEMORY}: a fresh server, pinned as the others, {args.bursts} bursts of "
            f"{IN_FLIGHT} requests at once among: {'; '.join(case.name for case in cases)}"
        )
        memory_server = serve(
            "app.main:create_app", MEMORY_PORT, app_env, server_cpu, "/health/ready", expected
        )
        with memory_server as server:
            memory = measure_memory(
                server.base_url, server.process.pid, cases, IN_FLIGHT, args.bursts
            )
        for line in memory_lines(memory):
            say("    " + line)

    if chosen(FLOODS, args.only):
        say(f"  {FLOODS}: a fresh server, pinned as the others; the prober on its own connection")
        flood_server = serve(
            "app.main:create_app", FLOODS_PORT, app_env, server_cpu, "/health/ready", expected
        )
        with flood_server as server:
            for result in measure_floods(server.base_url, server.process.pid, load_cpu):
                for line in flood_lines(result):
                    say("    " + line)

    if chosen(VICTIMS, args.only):
        say(f"  {VICTIMS}: a fresh server, pinned as the others; the prober on its own connection")
        victim_server = serve(
            "app.main:create_app", VICTIMS_PORT, app_env, server_cpu, "/health/ready", expected
        )
        with victim_server as server:
            for attack in attacks():
                result = measure_victim(server.base_url, attack, args.hostile_seconds, load_cpu)
                say("    " + victim_line(result))

    figures = Figures(
        rows=rounds.floor_rows() + rounds.rows,
        floor_range_rps=rounds.drift(),
        cold_start_seconds=cold_start,
        resident_mb=resident_mb,
        liveness=liveness,
        memory=memory,
    )
    summarise(figures, args, pinning, expected)
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    sys.stdout.write(f"benchmark took {time.perf_counter() - started:.0f} s\n")
    raise SystemExit(code)
