"""python -m training compare: measure the serving versions of a dataset side by side."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import numpy as np

from training import comparison, iris, serving_cost
from training.comparison_plot import comparison_plot
from training.comparison_rows import ComparisonError
from training.comparison_table import markdown
from training.datasets import mnist as mnist_files
from training.datasets.mnist import MnistNotFoundError
from training.labels import LabelError
from training.registry_writer import NAME_PATTERN
from training.spec import Array

COMMAND = "compare"
TEST_ROWS = 1000
BUILT_IN = ("iris", "mnist")  # timed on their test rows; any other dataset on example rows


def dataset_name(text: str) -> str:
    """--dataset's value: a name the server serves comparisons under."""
    if not NAME_PATTERN.match(text):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a dataset name (lower-case letters, digits and '-'); versions "
            "imported before `import --dataset` recorded their eval file's name: import them "
            "again with --dataset NAME"
        )
    return text


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m training compare",
        description="Put the versions that answer unpinned requests (production, else the "
        "newest) of each model of a dataset side by side: the metrics metadata.json records "
        "(accuracy and macro F1; R², MAE and RMSE for regressors), training and testing error, "
        "training seconds, artifact size, serving memory and serving cost measured through ONNX "
        "Runtime / LiteRT as the server runs them (iris and mnist on their test rows, imported "
        "models on their example rows). Writes comparison.json, comparison.md and "
        "comparison.png into <registry>/_comparisons/<dataset>/.",
    )
    parser.add_argument(
        "--dataset",
        type=dataset_name,
        action="append",
        required=True,
        help="compare this dataset's models (repeatable): iris, mnist, or the --dataset of "
        "imported models (metadata.json's dataset)",
    )
    parser.add_argument(
        "--registry-dir", type=Path, default=Path("models"), help="default: models/"
    )
    parser.add_argument(
        "--mnist-dir",
        type=Path,
        default=None,
        help="the MNIST files, for the test digits the models are timed on (as for training)",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=serving_cost.SECONDS,
        help="time spent on each of the one-row and 256-row measurements of a model "
        f"(default: {serving_cost.SECONDS})",
    )
    parser.add_argument(
        "--if-stale",
        action="store_true",
        help="only when a model's serving version or artifact changed since the last comparison",
    )
    return parser


def test_rows(dataset: str, mnist_dir: Path | None) -> Array | None:
    """The rows the serving cost of a built-in dataset's models is measured on: real test
    inputs, as clients send them; None for another dataset (its models' example rows)."""
    if dataset not in BUILT_IN:
        return None
    if dataset == "iris":
        return np.asarray(iris.load().test_features[:TEST_ROWS], dtype=np.float64)
    images = mnist_files.load(mnist_files.locate(mnist_dir), 1, TEST_ROWS).test_images
    return images.reshape(len(images), -1).astype(np.float64)


def _stale(registry_dir: Path, dataset: str) -> bool:
    previous = registry_dir / comparison.FOLDER / dataset / "comparison.json"
    try:
        recorded = json.loads(previous.read_text())["models"]
    except (OSError, ValueError, KeyError):
        return True
    current = comparison.fingerprint(comparison.serving_versions(registry_dir, dataset))
    return bool(recorded != current)


def is_command(argv: list[str]) -> bool:
    """Whether `argv` asks for compare (possibly after --registry-dir DIR)."""
    start = 2 if argv[:1] == ["--registry-dir"] else 0
    return argv[start : start + 1] == [COMMAND]


def main(argv: list[str]) -> int:
    start = 2 if argv[:1] == ["--registry-dir"] else 0  # the option may come first
    args = _parser().parse_args(argv[:start] + argv[start + 1 :])
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for dataset in args.dataset:
        try:
            if args.if_stale and not _stale(args.registry_dir, dataset):
                sys.stdout.write(f"{dataset}: comparison up to date\n")
                continue
            result = comparison.build(
                args.registry_dir, dataset, test_rows(dataset, args.mnist_dir), args.seconds
            )
        except (ComparisonError, MnistNotFoundError, LabelError, OSError) as exc:
            sys.stderr.write(f"error: {exc}\n")
            return 2
        folder = comparison.write(args.registry_dir, result, comparison_plot)
        sys.stdout.write(markdown(result) + f"written to {folder}/\n")
    return 0
