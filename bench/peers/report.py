"""The comparison's table, its ratios to each peer against the issue's targets, and JSON."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from bench.load import median_result
from bench.peers.measure import BATCH_ROWS, BIG_ROWS, Contender
from bench.targets import Verdict

# Ours against each peer: (measure, peer, least ratio), from issue 23.
TARGETS = (
    ("one_row", "mlserver", 20.0),
    ("one_row", "mlflow", 20.0),
    ("batch", "mlserver", 2.0),
    ("big", "mlflow", 2.0),
)
MEASURES = {
    "one_row": "one row, 16 clients, req/s",
    "batch": f"{BATCH_ROWS:,}-row batches, rows/s",
    "big": f"{BIG_ROWS:,}-row body, rows/s",
}


@dataclass(frozen=True)
class Medians:
    """One server's figures: the medians over the rounds."""

    one_row_rps: float
    one_row_p50_ms: float
    one_row_p99_ms: float
    batch_rows_per_second: float
    big_rows_per_second: float
    errors: int  # wrk's failed or non-2xx answers, over every run


def medians(contender: Contender) -> Medians | None:
    if not (contender.one_row and contender.batch and contender.big_seconds):
        return None
    one, batch = median_result(contender.one_row), median_result(contender.batch)
    return Medians(
        one.requests_per_second,
        one.p50_ms,
        one.p99_ms,
        BATCH_ROWS * batch.requests_per_second,
        BIG_ROWS / median(contender.big_seconds),
        one.errors + batch.errors,
    )


def ratios(ours: Contender, peer: Contender) -> dict[str, float]:
    """Ours over the peer, per measure: the median over the rounds of each round's ratio."""
    if not (peer.one_row and peer.batch and peer.big_seconds):
        return {}
    return {
        "one_row": median(
            a.requests_per_second / b.requests_per_second
            for a, b in zip(ours.one_row, peer.one_row, strict=True)
        ),
        "batch": median(
            a.requests_per_second / b.requests_per_second
            for a, b in zip(ours.batch, peer.batch, strict=True)
        ),
        "big": median(b / a for a, b in zip(ours.big_seconds, peer.big_seconds, strict=True)),
    }


def verdicts(ours: Contender, peers: list[Contender]) -> list[Verdict]:
    """Each target whose peer ran; a peer that did not run leaves its targets out."""
    found = []
    for measure, key, least in TARGETS:
        peer = next((p for p in peers if p.key == key), None)
        ratio = ratios(ours, peer).get(measure) if peer is not None else None
        if peer is None or ratio is None:
            continue
        found.append(
            Verdict(
                f"{MEASURES[measure]}: ours >= {least:g} x {peer.title}",
                f"{ratio:.2f} x",
                ratio >= least,
            )
        )
    return found


def _labels(contender: Contender) -> str:
    if contender.differing is None:
        return "-"
    rows = BATCH_ROWS
    return f"{rows - len(contender.differing)}/{rows}"


def table(contenders: list[Contender]) -> str:
    """A Markdown table, one row per server; a server that did not run says why."""
    header = [
        "server",
        "one row, c16: req/s",
        "p50 ms",
        "p99 ms",
        f"{BATCH_ROWS:,} rows, c1: rows/s",
        f"{BIG_ROWS:,} rows, c1: rows/s",
        "large body",
        "batch labels = ours",
    ]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for contender in contenders:
        figures = medians(contender)
        if figures is None:
            why = contender.unavailable or "no figures"
            cells = [f"not run: {why}", *["-"] * (len(header) - 2)]
        else:
            cells = [
                f"{figures.one_row_rps:,.0f}",
                f"{figures.one_row_p50_ms:.1f}",
                f"{figures.one_row_p99_ms:.1f}",
                f"{figures.batch_rows_per_second:,.0f}",
                f"{figures.big_rows_per_second:,.0f}",
                contender.big_form,
                _labels(contender),
            ]
        title = contender.title
        if figures is not None and figures.errors:
            title += f" ({figures.errors} errors)"
        lines.append("| " + " | ".join([title, *cells]) + " |")
    return "\n".join(lines)


def ratio_lines(ours: Contender, peers: list[Contender]) -> list[str]:
    """Ours over each peer that ran, every measure, with the target where the issue sets one."""
    lines = []
    for peer in peers:
        found = ratios(ours, peer)
        if not found:
            continue
        parts = []
        for measure, ratio in found.items():
            least = next((t[2] for t in TARGETS if t[:2] == (measure, peer.key)), None)
            goal = "" if least is None else f" (target >= {least:g}: {_met(ratio >= least)})"
            parts.append(f"{MEASURES[measure]} {ratio:.2f} x{goal}")
        lines.append(f"ours / {peer.title}: " + "; ".join(parts))
    return lines


def _met(met: bool) -> str:
    return "met" if met else "NOT MET"


def write_json(path: Path, contenders: list[Contender], extra: dict[str, Any]) -> None:
    ours, peers = contenders[0], contenders[1:]
    document = {
        **extra,
        "servers": [
            {
                "key": c.key,
                "title": c.title,
                "large_body": c.big_form,
                "not_run": c.unavailable,
                "one_row_c16": [dataclasses.asdict(r) for r in c.one_row],
                "batch_c1": [dataclasses.asdict(r) for r in c.batch],
                "big_seconds": [round(s, 4) for s in c.big_seconds],
                "batch_rows_differing_from_ours": c.differing,
                "medians": dataclasses.asdict(m) if (m := medians(c)) else None,
                "ours_over_this": {k: round(v, 3) for k, v in ratios(ours, c).items()}
                if c is not ours
                else None,
            }
            for c in contenders
        ],
        "targets": [vars(v) for v in verdicts(ours, peers)],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
