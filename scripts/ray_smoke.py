"""make ray-smoke: the server on a real two-node Ray cluster on this machine, step by step.

A head node and a second node (`ray start --head`, `ray start --address`, one CPU each, no
dashboard), the app deployed from deploy/ray/serve.yaml with `serve run` (two replicas, one per
node), then: requests answered by both nodes; one replica's process killed under load while Ray
replaces it; a new registry version rolled out; Ray's overhead per request against the plain
server on the same two cores; `ray stop`. Every step prints its figures; any failure exits 1,
and the cluster is stopped whatever happens.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CONFIG = REPO / "deploy" / "ray" / "serve.yaml"
MODEL = "iris-svm"
PREDICT = f"/v1/models/{MODEL}/predict"
BODY = json.dumps({"instances": [[5.1, 3.5, 1.4, 0.2]]}).encode()
# Ray without its usage reporting (no internet here) and small object stores (shared machine).
# A proxy prefers the replicas of its own node; with one proxy for both nodes (one machine,
# one port) that would be the head's replica alone, so the preference is off: the proxy picks
# between both replicas, as a load balancer over one proxy per node does in a real cluster.
RAY_ENV = {
    **os.environ,
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_SERVE_PROXY_PREFER_LOCAL_NODE_ROUTING": "0",
}
NODE_OPTIONS = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats"]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run(*command: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(command, capture_output=True, text=True, env=env or RAY_ENV)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Answer:
    """One request's outcome: status (0: no response), served-by fields, model version, ms."""

    def __init__(self, status: int, headers: dict[str, str], ms: float, body: bytes = b"") -> None:
        self.status = status
        self.retried = False
        # Ray's own 500 (plain text), not the server's JSON error: the replica was lost.
        self.lost = status == 0 or (status == 500 and not body.startswith(b"{"))
        self.ms = ms
        fields = dict(part.split("=", 1) for part in headers.get("x-served-by", "").split())
        self.node = fields.get("node", "")
        self.pid = fields.get("pid", "")
        self.version = headers.get("x-model-version", "")


class Client:
    """Keep-alive HTTP/1.1 to one port; a broken connection is a failed request, then reopened."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def predict(self, path: str = PREDICT) -> Answer:
        started = time.perf_counter()
        try:
            self.connection.request("POST", path, BODY, {"Content-Type": "application/json"})
            response = self.connection.getresponse()
            body = response.read()
            headers = {key.lower(): value for key, value in response.getheaders()}
            return Answer(response.status, headers, (time.perf_counter() - started) * 1000, body)
        except (OSError, http.client.HTTPException):
            self.connection.close()
            self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            return Answer(0, {}, (time.perf_counter() - started) * 1000)


def wait_until(what: str, check: Callable[[], bool], seconds: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if check():
            return time.monotonic() - started
        time.sleep(0.2)
    raise RuntimeError(f"{what}: not within {seconds:g} s")


class Load:
    """`threads` clients sending predicts back to back until stopped; every answer kept. A
    request lost with its replica (Ray's 500, or no response) is sent again once, as a client
    or load balancer retries an idempotent request; the retries are counted."""

    def __init__(self, port: int, threads: int) -> None:
        self.answers: list[tuple[float, Answer]] = []
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._send, args=(port,)) for _ in range(threads)]

    def _send(self, port: int) -> None:
        client = Client(port)
        while not self._stop.is_set():
            answer = client.predict()
            if answer.lost:
                answer = client.predict()
                answer.retried = True
            self.answers.append((time.monotonic(), answer))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()

    def failed(self) -> list[Answer]:
        return [answer for _, answer in self.answers if answer.status != 200]

    def retried(self) -> int:
        return sum(answer.retried for _, answer in self.answers)


def latency(port: int, count: int) -> tuple[float, float]:
    """Median and p99 ms of `count` one-row predicts, one after another on one connection."""
    client = Client(port)
    for _ in range(50):  # warm-up
        client.predict()
    times = []
    for _ in range(count):
        answer = client.predict()
        if answer.status != 200:
            raise RuntimeError(f"a timed request failed: {answer.status}")
        times.append(answer.ms)
    times.sort()
    return statistics.median(times), times[int(len(times) * 0.99) - 1]


def throughput(port: int, threads: int, seconds: float) -> float:
    with Load(port, threads) as load:
        time.sleep(seconds)
    if load.failed():
        raise RuntimeError(f"{len(load.failed())} requests failed under load")
    return len(load.answers) / seconds


def train(registry: Path) -> None:
    command = [sys.executable, "-m", "training", "--quick", "--model", MODEL]
    done = subprocess.run(
        [*command, "--registry-dir", str(registry)], capture_output=True, text=True, cwd=REPO
    )
    if done.returncode not in (0, 3):  # 3: published, kept from production (a quick model)
        raise RuntimeError(f"training failed:\n{done.stdout}\n{done.stderr}")


def serve_config(work: Path, registry: Path, port: int) -> Path:
    """deploy/ray/serve.yaml for this cluster: its registry, a free port, one proxy (both
    nodes are this machine: one port), a re-scan every half second."""
    config = yaml.safe_load(CONFIG.read_text())
    config["proxy_location"] = "HeadOnly"
    config["http_options"] = {"host": "127.0.0.1", "port": port}
    (application,) = config["applications"]
    application["runtime_env"]["env_vars"].update(
        {
            "SERVING_MODELS_DIR": str(registry),
            "SERVING_RELOAD_INTERVAL_SECONDS": "0.5",
            "SERVING_LOG_LEVEL": "warning",
        }
    )
    path = work / "serve.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def node_names(address: str) -> dict[str, str]:
    """Node id -> "head" or "second", from the cluster's own list."""
    script = (
        "import json, sys, ray; ray.init(address=sys.argv[1], logging_level='ERROR'); "
        "print(json.dumps({n['NodeID']: 'head' if 'smoke_head' in n['Resources'] else 'second' "
        "for n in ray.nodes() if n['Alive']}))"
    )
    return dict(json.loads(run(sys.executable, "-c", script, address).strip().splitlines()[-1]))


def ray_processes() -> list[str]:
    """This user's Ray processes still running (read from /proc)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or proc.name == str(os.getpid()):
            continue
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(part in command for part in ("raylet", "gcs_server", "ray::", "default_worker.py")):
            found.append(f"{proc.name} {command[:80]}")
    return found


def smoke(work: Path) -> None:
    registry = work / "models"
    started = time.monotonic()
    train(registry)
    say(
        f"[registry] {MODEL} version 1 trained (--quick) into {registry} "
        f"in {time.monotonic() - started:.1f} s"
    )

    gcs_port, http_port = free_port(), free_port()
    address = f"127.0.0.1:{gcs_port}"
    started = time.monotonic()
    run(
        str(BIN / "ray"),
        "start",
        "--head",
        f"--port={gcs_port}",
        "--include-dashboard=false",
        *NODE_OPTIONS,
        '--resources={"smoke_head": 1}',
        f"--temp-dir={work / 'ray'}",
    )
    run(
        str(BIN / "ray"),
        "start",
        f"--address={address}",
        *NODE_OPTIONS,
        '--resources={"smoke_second": 1}',
    )
    names = node_names(address)
    say(
        f"[cluster] head and second node up in {time.monotonic() - started:.1f} s, one CPU "
        f"each: {', '.join(f'{name} {node[:8]}' for node, name in sorted(names.items()))}"
    )
    if sorted(names.values()) != ["head", "second"]:
        raise RuntimeError(f"expected two live nodes, got {names}")

    config = serve_config(work, registry, http_port)
    started = time.monotonic()
    run(str(BIN / "serve"), "run", "--non-blocking", f"--address={address}", str(config))
    client = Client(http_port)
    wait_until(
        "both replicas answering",
        lambda: len({client.predict().node for _ in range(20)} - {""}) == 2,
        180,
    )
    say(
        f"[deploy] serve run {CONFIG.relative_to(REPO)} (2 replicas, num_replicas=auto, "
        f"min 2): both answering in {time.monotonic() - started:.1f} s"
    )

    answers = [client.predict() for _ in range(200)]
    by_node = Counter(names.get(answer.node, "?") for answer in answers if answer.status == 200)
    failed = sum(answer.status != 200 for answer in answers)
    pids = {names.get(a.node, "?"): a.pid for a in answers if a.status == 200}
    say(
        f"[both nodes] 200 requests: {by_node['head']} served by the head node (replica pid "
        f"{pids.get('head')}), {by_node['second']} by the second node (pid "
        f"{pids.get('second')}), {failed} failed"
    )
    for number, answer in enumerate(answers[:6], start=1):
        say(
            f"    request {number}: {answer.status} from the {names.get(answer.node, '?')} "
            f"node, pid {answer.pid}, {answer.ms:.2f} ms"
        )
    if failed or by_node["head"] == 0 or by_node["second"] == 0:
        raise RuntimeError("both nodes must answer, and every request succeed")

    victim = pids["second"]
    with Load(http_port, 4) as load:
        time.sleep(1.0)
        killed_at = time.monotonic()
        os.kill(int(victim), signal.SIGKILL)
        replaced = wait_until(
            "a new replica on the second node",
            lambda: any(
                names.get(a.node) == "second" and a.pid not in ("", victim) and t > killed_at
                for t, a in load.answers[-50:]
            ),
            120,
        )
        time.sleep(2.0)
    after = [a for t, a in load.answers if t > killed_at]
    failures = load.failed()
    new_pid = next(a.pid for a in reversed(after) if names.get(a.node) == "second")
    say(
        f"[replica kill] SIGKILL to the second node's replica (pid {victim}) under 4 clients: "
        f"replaced by pid {new_pid}, answering {replaced:.1f} s after the kill; "
        f"{len(load.answers)} requests, {len(after)} after the kill, {load.retried()} retried "
        f"once (in flight on the killed replica), {len(failures)} failed"
    )
    if failures:
        raise RuntimeError("requests failed across the replica kill")

    with Load(http_port, 2) as load:
        time.sleep(0.5)
        started = time.monotonic()
        train(registry)
        trained = time.monotonic() - started
        rolled = wait_until(
            "version 2 from both nodes",
            lambda: {names.get(a.node) for t, a in load.answers[-40:] if a.version == "2"}
            == {"head", "second"}
            and all(a.version == "2" for _, a in load.answers[-20:]),
            60,
        )
    versions = Counter(a.version for _, a in load.answers)
    say(
        f"[rollout] {MODEL} version 2 written to the shared registry (trained in {trained:.1f} "
        f"s); every replica answering with it {rolled:.1f} s later, no redeploy; "
        f"{len(load.answers)} requests under 2 clients (by version: {dict(versions)}), "
        f"{load.retried()} retried, {len(load.failed())} failed"
    )
    if load.failed():
        raise RuntimeError("requests failed during the rollout")

    ray_median, ray_p99 = latency(http_port, 1000)
    ray_rps = throughput(http_port, 8, 5.0)
    run(str(BIN / "ray"), "stop")
    left = ray_processes()
    say(f"[ray stop] cluster stopped; Ray processes left: {len(left)}")
    if left:
        raise RuntimeError("Ray processes left behind:\n" + "\n".join(left))

    plain_port = free_port()
    env = {
        **os.environ,
        "SERVING_MODELS_DIR": str(registry),
        "SERVING_PORT": str(plain_port),
        "SERVING_WORKERS": "2",
        "SERVING_COMPUTE_WORKERS": "1",
        "SERVING_LOG_LEVEL": "warning",
    }
    server = subprocess.Popen([sys.executable, "-m", "app"], cwd=REPO, env=env)
    try:
        plain = Client(plain_port)
        wait_until("the plain server", lambda: plain.predict().status == 200, 60)
        plain_median, plain_p99 = latency(plain_port, 1000)
        plain_rps = throughput(plain_port, 8, 5.0)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    say(
        f"[overhead] one-row {MODEL} predict on two cores: Ray Serve (proxy + 2 replicas) "
        f"median {ray_median:.2f} ms, p99 {ray_p99:.2f} ms, {ray_rps:.0f} req/s at 8 clients; "
        f"plain server (SERVING_WORKERS=2) median {plain_median:.2f} ms, p99 {plain_p99:.2f} "
        f"ms, {plain_rps:.0f} req/s; Ray adds {ray_median - plain_median:.2f} ms a request "
        f"(median), throughput {ray_rps / plain_rps:.2f} x"
    )


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="ray-smoke-") as folder:
        try:
            smoke(Path(folder))
        except Exception as exc:
            say(f"FAILED: {exc}")
            return 1
        finally:
            subprocess.run([str(BIN / "ray"), "stop", "--force"], capture_output=True, env=RAY_ENV)
    say(f"[done] ray smoke passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
