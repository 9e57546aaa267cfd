"""Scenarios measured in rounds, each round beside both floors, so machine drift cancels out."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from statistics import median

from bench.load import LoadResult, check, median_result, run_wrk
from bench.report import Row
from bench.scenarios import Scenario
from bench.servers import Server

WARMUP_SECONDS = 1.0
FASTAPI_FLOOR = "floor: FastAPI route"
RAW_FLOOR = "floor: raw ASGI"


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


@dataclass
class Rounds:
    """Each measurement is a round: the FastAPI floor, the raw ASGI floor, then the scenario.

    Every ratio is to the floors run just before it, and a row shows the median over the rounds,
    so one disturbed run does not decide it."""

    fastapi_floor: Server
    raw_floor: Server
    floor: Scenario
    rounds: int
    seconds: float
    load_cpu: int | None
    rows: list[Row] = field(default_factory=list)
    # Per concurrency, the (FastAPI, raw ASGI) floor runs of each round.
    floors: dict[int, list[tuple[LoadResult, LoadResult]]] = field(default_factory=dict)

    def run(
        self, server: Server, scenario: Scenario, connections: int, label: str = ""
    ) -> LoadResult:
        """One measurement, after a short warm-up at the same concurrency."""
        run_wrk(server.base_url, scenario.request, connections, WARMUP_SECONDS, self.load_cpu)
        result = run_wrk(
            server.base_url, scenario.request, connections, self.seconds, self.load_cpu
        )
        name = f"{scenario.name} ({label})" if label else scenario.name
        say(
            f"  {name:<58} c{connections:<2} {result.requests_per_second:>8.0f} req/s "
            f"p50 {result.p50_ms:6.2f} ms  p99 {result.p99_ms:6.2f} ms"
        )
        return result

    def measure(
        self,
        server: Server,
        scenario: Scenario,
        baseline: Server | None = None,
        versus: str = "",
        other: Scenario | None = None,
    ) -> None:
        """Each concurrency, `rounds` times: both floors, then the scenario. With a `baseline`
        server, the same request goes to it between the floors and the scenario, and the row
        also gets the median of scenario / baseline (`versus` names the baseline). With an
        `other` scenario, that request goes to the same server in its place: another dialect
        of the same request, measured side by side."""
        check(server.base_url, scenario.request)
        for connections in scenario.concurrency:
            ratios: dict[str, list[float]] = {
                key: [] for key in ("rps", "p99", "raw_rps", "raw_p99", "versus", "p99_versus")
            }
            results = []
            for _ in range(self.rounds):
                fastapi = self.run(self.fastapi_floor, self.floor, connections, "FastAPI")
                raw = self.run(self.raw_floor, self.floor, connections, "raw ASGI")
                self.floors.setdefault(connections, []).append((fastapi, raw))
                before = None
                if baseline is not None or other is not None:
                    before = self.run(baseline or server, other or scenario, connections, versus)
                result = self.run(server, scenario, connections)
                results.append(result)
                ratios["rps"].append(result.requests_per_second / fastapi.requests_per_second)
                ratios["p99"].append(result.p99_ms / fastapi.p99_ms)
                ratios["raw_rps"].append(result.requests_per_second / raw.requests_per_second)
                ratios["raw_p99"].append(result.p99_ms / raw.p99_ms)
                if before is not None:
                    ratios["versus"].append(result.requests_per_second / before.requests_per_second)
                    ratios["p99_versus"].append(result.p99_ms / before.p99_ms)
            self.rows.append(
                Row(
                    scenario.name,
                    connections,
                    median_result(results),
                    rps_ratio=median(ratios["rps"]),
                    p99_ratio=median(ratios["p99"]),
                    raw_rps_ratio=median(ratios["raw_rps"]),
                    raw_p99_ratio=median(ratios["raw_p99"]),
                    versus=versus if before is not None else None,
                    rps_versus=median(ratios["versus"]) if ratios["versus"] else None,
                    p99_versus=median(ratios["p99_versus"]) if ratios["p99_versus"] else None,
                )
            )

    def floor_rows(self) -> list[Row]:
        """Both floors' medians; each one's ratio to the other is the median over the rounds."""
        rows: list[Row] = []
        if not self.floors:
            return rows
        # One name per floor whatever the concurrency, so the chart keeps each floor on one line.
        low, high = min(map(len, self.floors.values())), max(map(len, self.floors.values()))
        runs = f"(median of {low} runs)" if low == high else f"(median of {low}-{high} runs)"
        for connections, pairs in sorted(self.floors.items()):
            fastapi, raw = [p[0] for p in pairs], [p[1] for p in pairs]
            rows.append(
                Row(
                    f"{FASTAPI_FLOOR} {runs}",
                    connections,
                    median_result(fastapi),
                    rps_ratio=1,
                    p99_ratio=1,
                    raw_rps_ratio=median(
                        [f.requests_per_second / r.requests_per_second for f, r in pairs]
                    ),
                    raw_p99_ratio=median([f.p99_ms / r.p99_ms for f, r in pairs]),
                )
            )
            rows.append(
                Row(
                    f"{RAW_FLOOR} {runs}",
                    connections,
                    median_result(raw),
                    rps_ratio=median(
                        [r.requests_per_second / f.requests_per_second for f, r in pairs]
                    ),
                    p99_ratio=median([r.p99_ms / f.p99_ms for f, r in pairs]),
                    raw_rps_ratio=1,
                    raw_p99_ratio=1,
                )
            )
        return rows

    def drift(self) -> dict[str, dict[int, list[int]]]:
        """Each floor's lowest and highest req/s over the run, per concurrency."""
        ranges: dict[str, dict[int, list[int]]] = {"fastapi": {}, "raw_asgi": {}}
        for connections, pairs in sorted(self.floors.items()):
            for index, key in enumerate(ranges):
                rates = [pair[index].requests_per_second for pair in pairs]
                ranges[key][connections] = [round(min(rates)), round(max(rates))]
        return ranges
