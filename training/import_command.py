"""python -m training import SOURCE --name NAME: a user's model into the registry, verified."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from training import verify
from training.importers import ImportRefusedError

USAGE_ERROR = 2
NOT_PROMOTED = 3


def is_command(arguments: list[str]) -> bool:
    return bool(arguments) and arguments[0] == "import"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m training import",
        description="Import a model (scikit-learn joblib/pickle or skops, XGBoost .json/.ubj, "
        "LightGBM .txt, Keras .keras, .onnx, or an MLflow model folder) as a new version: "
        "converted to ONNX (Keras: TFLite), checked against the original, evaluated. "
        "Unpickling a joblib/pickle file runs code from it: import only your own files.",
    )
    parser.add_argument("source", type=Path, help="the model file or MLflow folder")
    parser.add_argument("--name", required=True, help="the registry name, e.g. churn")
    parser.add_argument(
        "--example", type=Path, help="a few input rows: CSV with a header, or JSON records"
    )
    parser.add_argument(
        "--eval", type=Path, help="held-out rows with the target column (CSV or JSON)"
    )
    parser.add_argument("--target", help="the target column of --eval")
    parser.add_argument(
        "--dataset",
        help="what the model is compared with (python -m training compare --dataset NAME): "
        "models imported against the same eval data share it (default: the --eval file's name "
        "without extension, e.g. eval for eval.csv; without --eval, the model's name)",
    )
    parser.add_argument(
        "--task", choices=["classification", "regression"], help="when the model does not say"
    )
    parser.add_argument(
        "--registry-dir", type=Path, default=Path("models"), help="default: models/"
    )
    parser.add_argument(
        "--no-promote", action="store_true", help="publish without moving 'production'"
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        default=verify.DEFAULT_TOLERANCE,
        help=f"largest probability difference, or relative value difference, between the export "
        f"and the original (default {verify.DEFAULT_TOLERANCE:g})",
    )
    parser.add_argument(
        "--keep-pickle",
        action="store_true",
        help="store the original (joblib) as the artifact instead of an export: served only with "
        "SERVING_ALLOW_PICKLE",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv[1:])
    from training.import_report import report
    from training.importers import columns, sources
    from training.importing import ImportData, ImportOptions, check_name, dataset_of_file

    try:
        check_name(args.name)
        if (args.eval is None) != (args.target is None):
            raise ImportRefusedError("--eval FILE and --target COLUMN go together")
        data = ImportData()
        if args.example is not None:
            data.example = columns.read_table(args.example)
        if args.eval is not None:
            table = columns.read_table(args.eval)
            if args.target not in table.columns:
                raise ImportRefusedError(f"the eval file {args.eval} has no column {args.target!r}")
            data.eval_features = table.drop(columns=[args.target])
            data.eval_target = table[args.target]
            data.eval_sha256 = columns.sha256(args.eval)
            data.eval_source = args.eval.name
        options = ImportOptions(
            args.name,
            args.registry_dir,
            args.task,
            not args.no_promote,
            args.tolerance,
            args.keep_pickle,
            str(args.source),
            args.dataset or (dataset_of_file(args.eval) if args.eval is not None else None),
        )
        original, given = sources.read(args.source, args.task)
        from training.importing import import_original

        imported = import_original(original, data, options, given)
    except ImportRefusedError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return USAGE_ERROR
    sys.stdout.write(report(imported, original.algorithm, str(args.source)))
    return NOT_PROMOTED if imported.refused else 0
