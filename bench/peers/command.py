"""python -m bench peers: one imported pipeline served by us, by MLServer and by `mlflow models
serve`, each on one core, measured side by side in one run."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from contextlib import AbstractContextManager, ExitStack
from datetime import UTC, datetime
from pathlib import Path

from bench.load import ensure_wrk
from bench.peers import dialects, launch, model
from bench.peers.environments import MLFLOW, MLSERVER, PEERS, Peer, PeerUnavailableError, ensure
from bench.peers.measure import BIG_ROWS, Contender, Requests, Started, agree, measure
from bench.peers.report import ratio_lines, table, verdicts, write_json
from bench.report import machine
from bench.rounds import say
from bench.servers import Server, cpus, serve

OURS_PORT, MLSERVER_PORT, MLFLOW_PORT = 8731, 8732, 8736  # MLServer also takes 8733 and 8734
OURS = "modelserve (ONNX export)"
# Our limits raised for the 100,000-row body (defaults: 1,024 rows, 10 MiB).
OURS_ENV = {"SERVING_MAX_BATCH_ROWS": str(BIG_ROWS), "SERVING_MAX_BODY_BYTES": str(64 << 20)}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench peers", description=__doc__)
    parser.add_argument("--seconds", type=float, default=3.0, help="each wrk run (default: 3)")
    parser.add_argument(
        "--rounds", type=int, default=3, help="rounds; the table shows medians (default: 3)"
    )
    parser.add_argument(
        "--skip", action="append", default=[], choices=[p.name for p in PEERS], help="a peer"
    )
    parser.add_argument(
        "--peers-dir",
        type=Path,
        default=Path("build/peers"),
        help="where each peer's virtualenv is made, and reused (default: build/peers/)",
    )
    parser.add_argument(
        "--peers-python",
        default=sys.executable,
        help="the Python the peers' virtualenvs are made with (default: this one)",
    )
    parser.add_argument("--results-dir", type=Path, default=Path("bench/results"))
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.seconds <= 0:
        parser.error("--rounds must be at least 1 and --seconds above 0")
    return args


def import_model(files: model.Files, registry: Path) -> None:
    """The joblib file through `python -m training import`, as a user imports theirs."""
    command = [
        *(sys.executable, "-m", "training", "import", str(files.joblib)),
        *("--name", launch.MODEL, "--example", str(files.example)),
        *("--eval", str(files.eval), "--target", model.TARGET, "--registry-dir", str(registry)),
    ]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    for line in done.stdout.splitlines():
        say("  " + line)


def start_peer(
    peer: Peer, args: argparse.Namespace, files: model.Files, folder: Path, cpu: int | None
) -> AbstractContextManager[Server]:
    environment = ensure(peer, args.peers_dir.resolve(), args.peers_python)
    folder.mkdir()
    if peer is MLSERVER:
        return launch.mlserver(environment, files.joblib, folder, MLSERVER_PORT, cpu)
    rows = (files.eval, model.TARGET)
    return launch.mlflow(environment, files.joblib, rows, folder, MLFLOW_PORT, cpu)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    ensure_wrk()
    server_cpu, load_cpu = cpus()
    pinning = "one core: servers and clients share it (not pinned)"
    if load_cpu is not None:  # the client of the large bodies stays off the servers' core
        os.sched_setaffinity(0, {load_cpu})
        pinning = (
            "each server's process tree pinned to CPU 0 (taskset), wrk and this process to CPU 1"
        )
    peers = [p for p in PEERS if p.name not in args.skip]
    contenders = [Contender("ours", OURS, dialects.native(launch.MODEL).big_form)]
    forms = {MLSERVER.name: dialects.mlserver(launch.MODEL), MLFLOW.name: dialects.mlflow()}
    contenders += [Contender(p.name, p.title, forms[p.name].big_form) for p in peers]
    with tempfile.TemporaryDirectory(prefix="bench-peers-") as temp, ExitStack() as stack:
        folder = Path(temp)
        say("training the pipeline and importing it (python -m training import)")
        files = model.write(folder / "model")
        import_model(files, folder / "registry")
        rows, _ = model.customers(BIG_ROWS, seed=model.SEED + 3)
        env = {"SERVING_MODELS_DIR": str(folder / "registry"), **OURS_ENV}
        ours = stack.enter_context(
            serve("app.main:create_app", OURS_PORT, env, server_cpu, "/health/ready", 1)
        )
        native = dialects.native(launch.MODEL)
        contenders[0].started = Started(ours, native, Requests.of(native, rows))
        for peer, contender in zip(peers, contenders[1:], strict=True):
            say(f"{peer.title}: its virtualenv in {args.peers_dir / peer.name}, then the server")
            try:
                server = stack.enter_context(
                    start_peer(peer, args, files, folder / peer.name, server_cpu)
                )
            except PeerUnavailableError as exc:
                contender.unavailable = str(exc)
                say(f"  not run: {exc}")
                continue
            dialect = forms[peer.name]
            contender.started = Started(server, dialect, Requests.of(dialect, rows))
        say("every request answered once, the batch's labels compared")
        agree(contenders)
        measure(contenders, args.rounds, args.seconds, load_cpu)
    summarise(contenders, args, pinning)
    return 0


def summarise(contenders: list[Contender], args: argparse.Namespace, pinning: str) -> None:
    info = machine()
    ours, peers = contenders[0], contenders[1:]
    say("")
    say(
        f"machine: {info['cpu']}, {info['cores']} cores, Linux {info['kernel']}, "
        f"Python {info['python']}; {pinning}; {args.seconds:g} s per wrk run, {args.rounds} "
        "rounds, medians (ratios: the median of each round's ratio)"
    )
    say("")
    say(table(contenders))
    say("")
    for line in ratio_lines(ours, peers):
        say(line)
    found = verdicts(ours, peers)
    for verdict in found:
        state = "met    " if verdict.met else "NOT MET"
        say(f"  {state}  {verdict.target}: {verdict.measured}")
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    path = args.results_dir / f"peers-{stamp}.json"
    extra = {
        "finished_at": stamp,
        "machine": info,
        "pinning": pinning,
        "seconds_per_run": args.seconds,
        "rounds": args.rounds,
    }
    write_json(path, contenders, extra)
    say(f"\nwrote {path}")
