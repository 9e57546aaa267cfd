"""python -m training: fit the Iris and MNIST models into the registry folder."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from training import pipeline
from training.datasets.mnist import ENV_VAR, MnistNotFoundError


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
    parser.add_argument("--list", action="store_true", help="list the model names and exit")
    return parser.parse_args(argv)


def format_table(outcomes: list[pipeline.Outcome], quick: bool) -> str:
    """The end-of-run summary: one row a model."""
    header = (
        f"{'model':<28} {'version':>7} {'accuracy':>9} {'floor':>6} {'seconds':>8} {'artifact':>10}"
    )
    rows = [header, "-" * len(header)]
    for o in outcomes:
        # Floors apply to full training only; quick mode's tiny slices are not held to them.
        mark = "" if quick or o.accuracy >= o.floor else "  BELOW FLOOR"
        rows.append(
            f"{o.name:<28} {o.version:>7} {o.accuracy:>9.4f} {o.floor:>6.3f} {o.seconds:>8.1f} "
            f"{o.artifact_bytes / 1e6:>8.2f}MB{mark}"
        )
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
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
        outcomes = pipeline.run(specs, args.registry_dir, args.mnist_dir, args.quick, args.missing)
    except MnistNotFoundError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    if not outcomes:
        sys.stdout.write(
            f"nothing to train: every selected model has a version in {args.registry_dir}/\n"
        )
        return 0
    sys.stdout.write(format_table(outcomes, args.quick) + "\n")
    sys.stdout.write(f"trained {len(outcomes)} model(s) in {time.perf_counter() - started:.1f} s\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
