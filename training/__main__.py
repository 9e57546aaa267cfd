"""python -m training: fit the Iris and MNIST models into the registry folder."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

from training import compare_command, import_command, label_commands, pipeline, promotion
from training.datasets.mnist import ENV_VAR, MnistNotFoundError

# Versions were published, but the gate kept at least one from production.
NOT_PROMOTED = 3


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training",
        description="Train classifiers and publish each as a new version in the model registry "
        "(models/<name>/<version>/). Every run adds a version; nothing is overwritten.",
    )
    parser.add_argument(
        "--dataset",
        choices=["iris", "mnist"],
        action="append",
        help="train only this dataset's models (repeatable; default: both)",
    )
    parser.add_argument(
        "--model",
        dest="models",
        action="append",
        metavar="NAME",
        help="train only this model (repeatable), e.g. --model iris-svm; see --list",
    )
    parser.add_argument(
        "--registry-dir",
        type=Path,
        default=Path("models"),
        help="the registry folder (default: models/)",
    )
    parser.add_argument(
        "--mnist-dir",
        type=Path,
        default=None,
        help=f"folder with the four MNIST IDX .gz files (default: ${ENV_VAR}, then data/mnist/, "
        "then a download from the public mirror into data/mnist/)",
    )
    parser.add_argument(
        "--missing",
        action="store_true",
        help="skip models that already have a version in the registry",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny data and one epoch: for tests and smoke checks, not for serving",
    )
    parser.add_argument(
        "--no-promote",
        action="store_true",
        help="publish the new versions without moving the 'production' label (teams that "
        "promote by hand: python -m training promote NAME VERSION)",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=promotion.DEFAULT_TOLERANCE,
        help="how much lower than production's accuracy (same test set) a new version may be "
        f"and still be promoted (default: {promotion.DEFAULT_TOLERANCE})",
    )
    parser.add_argument("--list", action="store_true", help="list the model names and exit")
    parser.epilog = (
        "Each new version goes through a gate: one trained with --quick, below its floor, or "
        "worse than production is published but not promoted, and the command exits 3. "
        "Labels by hand: python -m training {promote NAME VERSION | labels [NAME] | rollback "
        "NAME} [--label LABEL] (see python -m training promote --help). Models side by side: "
        "python -m training compare --dataset mnist (see python -m training compare --help). "
        "Your own model: python -m training import SOURCE --name NAME (see its --help)."
    )
    return parser.parse_args(argv)


def format_table(outcomes: list[pipeline.Outcome]) -> str:
    """The end-of-run summary: one row a model."""
    header = (
        f"{'model':<28} {'version':>7} {'accuracy':>9} {'floor':>6} {'seconds':>8} {'artifact':>10}"
        "  promotion"
    )
    rows = [header, "-" * len(header)]
    for o in outcomes:
        rows.append(
            f"{o.name:<28} {o.version:>7} {o.accuracy:>9.4f} {o.floor:>6.3f} {o.seconds:>8.1f} "
            f"{o.artifact_bytes / 1e6:>8.2f}MB  {o.promotion}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if label_commands.is_command(arguments):
        return label_commands.main(arguments)
    if compare_command.is_command(arguments):
        return compare_command.main(arguments)
    if import_command.is_command(arguments):
        return import_command.main(arguments)
    args = parse_args(arguments)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        specs = pipeline.select(args.models, args.dataset)
    except ValueError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 2
    if args.list:
        sys.stdout.write("".join(f"{s.name}\t{s.framework}\tfloor {s.floor}\n" for s in specs))
        return 0
    started = time.perf_counter()
    try:
        policy = pipeline.Promotion(not args.no_promote, args.tolerance)
        outcomes = pipeline.run(
            specs, args.registry_dir, args.mnist_dir, args.quick, args.missing, policy
        )
    except MnistNotFoundError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    if not outcomes:
        sys.stdout.write(
            f"nothing to train: every selected model has a version in {args.registry_dir}/\n"
        )
        return 0
    sys.stdout.write(format_table(outcomes) + "\n")
    sys.stdout.write(f"trained {len(outcomes)} model(s) in {time.perf_counter() - started:.1f} s\n")
    refused = [o.name for o in outcomes if o.refused]
    if refused:
        sys.stdout.write(
            f"published but not promoted: {', '.join(refused)} (see the promotion column)\n"
        )
        return NOT_PROMOTED
    return 0


def exit_on_sigterm() -> None:
    """SIGTERM (a stop from modelserve serve, an orchestrator) ends the run as Ctrl-C does:
    through the `finally` blocks, so the registry's .training.json marker is removed."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


if __name__ == "__main__":
    exit_on_sigterm()
    try:
        raise SystemExit(main())
    except SystemExit as stop:
        code = stop.code
        if not (isinstance(code, int) and code > 128):
            raise
        # The `finally` blocks have run (the marker is gone); a stop in the middle of a fit
        # leaves native threads (OpenMP, ONNX Runtime) that the interpreter's teardown can crash
        # on (SIGSEGV), so the process ends here, with the signal's status.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
