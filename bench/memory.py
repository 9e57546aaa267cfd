"""Peak memory of the server's process tree with worst-case requests in flight at once."""

from __future__ import annotations

import contextlib
import http.client
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

from bench.hostile import WorstCase
from bench.load import Request
from bench.proctree import watching

# Longer than the server's own request deadline (30 s by default); a request past it is reported.
REQUEST_TIMEOUT_SECONDS = 60.0
# No burst starts after this, so a server that takes its time cannot stretch the run unbounded.
BUDGET_SECONDS = 60.0


@dataclass(frozen=True)
class MemoryResult:
    """The tree's peak resident memory (each process's VmHWM, summed) and what the cases got."""

    peak_mb: float
    processes: int
    in_flight: int
    bursts: int  # sent in full
    bursts_wanted: int
    seconds: float
    statuses: dict[str, dict[str, int]]  # case name -> status (or client error) -> count


def send(base_url: str, request: Request, timeout: float = REQUEST_TIMEOUT_SECONDS) -> str:
    """POST the request on a new connection; the status code, or what went wrong instead."""
    address = urlsplit(base_url)
    connection = http.client.HTTPConnection(
        address.hostname or "127.0.0.1", address.port or 80, timeout=timeout
    )
    try:
        # The server may answer (413) and close before the whole body is sent: read the answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.request(
                "POST", request.path, request.body, {"Content-Type": request.content_type}
            )
        response = connection.getresponse()
        response.read()
        return str(response.status)
    except TimeoutError:
        return "timeout"
    except ConnectionResetError:
        return "connection reset"
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__
    finally:
        connection.close()


def measure_memory(
    base_url: str,
    pid: int,
    cases: list[WorstCase],
    in_flight: int = 8,
    bursts: int = 3,
    budget_seconds: float = BUDGET_SECONDS,
) -> MemoryResult:
    """`bursts` times (while within the budget), `in_flight` requests sent at once (the cases in
    turn), each burst answered in full before the next."""
    statuses: dict[str, Counter[str]] = {case.name: Counter() for case in cases}
    started = time.perf_counter()
    done = 0
    with watching(pid) as peak, ThreadPoolExecutor(in_flight) as pool:
        for burst in range(bursts):
            if burst and time.perf_counter() - started > budget_seconds:
                break
            # Each burst starts at another case, so every case gets its turn in a full house.
            chosen = [cases[(burst + slot) % len(cases)] for slot in range(in_flight)]
            answers = pool.map(lambda case: send(base_url, case.request), chosen)
            for case, answer in zip(chosen, answers, strict=True):
                statuses[case.name][answer] += 1
            done += 1
    return MemoryResult(
        peak_mb=peak.total_mb,
        processes=len(peak.peaks_kb),
        in_flight=in_flight,
        bursts=done,
        bursts_wanted=bursts,
        seconds=time.perf_counter() - started,
        statuses={name: dict(sorted(counts.items())) for name, counts in statuses.items()},
    )
