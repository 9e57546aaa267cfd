"""The three servers measured side by side: in each round, each request goes to every server in
turn, so a machine that drifts drifts for all of them."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass, field

import pandas as pd

from bench.load import LoadResult, Request, check, run_wrk
from bench.peers.dialects import Dialect, disagreements
from bench.rounds import WARMUP_SECONDS, say
from bench.servers import Server

ONE_ROW_CLIENTS = 16
BATCH_ROWS = 1_000
BIG_ROWS = 100_000
BIG_TIMEOUT_SECONDS = 120.0


@dataclass(frozen=True)
class Requests:
    """The same rows in one server's request form: one row, a batch, the big body."""

    one_row: Request
    batch: Request
    big: Request

    @classmethod
    def of(cls, dialect: Dialect, rows: pd.DataFrame) -> Requests:
        return cls(
            dialect.rows(rows.head(1)), dialect.rows(rows.head(BATCH_ROWS)), dialect.big(rows)
        )


@dataclass(frozen=True)
class Started:
    """A server that is up, the form it is asked in, and its requests."""

    server: Server
    dialect: Dialect
    requests: Requests


@dataclass
class Contender:
    """One server of the comparison and what it measured, round by round."""

    key: str
    title: str
    big_form: str
    started: Started | None = None
    unavailable: str | None = None  # why it did not run
    one_row: list[LoadResult] = field(default_factory=list)  # 16 clients
    batch: list[LoadResult] = field(default_factory=list)  # one client
    big_seconds: list[float] = field(default_factory=list)  # one request after another
    differing: list[int] | None = None  # rows of the batch labelled otherwise than by ours


def _running(contenders: list[Contender]) -> list[tuple[Contender, Started]]:
    return [(c, started) for c in contenders if (started := c.started) is not None]


def agree(contenders: list[Contender]) -> None:
    """Each server answers every request once (untimed); the batch's labels against ours."""
    ours: list[str] | None = None
    for contender, started in _running(contenders):
        url, requests = started.server.base_url, started.requests
        check(url, requests.one_row)
        check(url, requests.big, BIG_TIMEOUT_SECONDS)
        labels = started.dialect.labels(check(url, requests.batch))
        if ours is None:
            ours = labels
            continue
        contender.differing = disagreements(ours, labels)
        equal = len(labels) - len(contender.differing)
        say(f"  {contender.title}: {equal} of {len(ours)} labels of the batch equal to ours")
        for row in contender.differing[:5]:
            say(f"    row {row}: ours {ours[row]!r}, {contender.key} {labels[row]!r}")


def measure(contenders: list[Contender], rounds: int, seconds: float, cpu: int | None) -> None:
    """`rounds` times: the one row at 16 clients, then the batch, then the big body, each to
    every server in turn."""
    running = _running(contenders)
    for number in range(1, rounds + 1):
        say(f"round {number} of {rounds}")
        for contender, started in running:
            request = started.requests.one_row
            result = _wrk(started.server, request, ONE_ROW_CLIENTS, seconds, cpu)
            contender.one_row.append(result)
            _say(contender, "one row, c16", result)
        for contender, started in running:
            result = _wrk(started.server, started.requests.batch, 1, seconds, cpu)
            contender.batch.append(result)
            _say(contender, f"{BATCH_ROWS:,} rows, c1", result)
        for contender, started in running:
            contender.big_seconds.append(_timed(started.server, started.requests.big))
            say(
                f"  {contender.title:<44} {BIG_ROWS:,} rows  {contender.big_seconds[-1]:7.2f} s "
                f"{BIG_ROWS / contender.big_seconds[-1]:>10,.0f} rows/s"
            )


def _wrk(
    server: Server, request: Request, clients: int, seconds: float, cpu: int | None
) -> LoadResult:
    try:
        run_wrk(server.base_url, request, clients, WARMUP_SECONDS, cpu)
        return run_wrk(server.base_url, request, clients, seconds, cpu)
    except subprocess.CalledProcessError as exc:
        raise RuntimeError(f"wrk failed on {server.base_url}: {_state(server)}") from exc


def _timed(server: Server, request: Request) -> float:
    """Seconds for one request, sent when the server is idle."""
    begun = time.perf_counter()
    try:
        check(server.base_url, request, BIG_TIMEOUT_SECONDS)
    except OSError as exc:  # refused, reset, timed out, or an error status
        raise RuntimeError(f"{server.base_url}: {exc}; {_state(server)}") from exc
    return time.perf_counter() - begun


def _state(server: Server) -> str:
    """Whether the server is still running: a server killed from outside says so."""
    code = server.process.poll()
    return "the server is still running" if code is None else f"the server exited with {code}"


def _say(contender: Contender, what: str, result: LoadResult) -> None:
    say(
        f"  {contender.title:<44} {what:<15} {result.requests_per_second:>8.0f} req/s "
        f"p50 {result.p50_ms:7.2f} ms  p99 {result.p99_ms:7.2f} ms"
        + (f"  ({result.errors} errors)" if result.errors else "")
    )
