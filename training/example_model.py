"""python -m training.example_model FOLDER: a small churn model to try python -m training import
with (README, Import your own model): churn.joblib, a scikit-learn Pipeline whose
ColumnTransformer takes a text, an integer and a float column with gaps; example.csv (5 rows) and
eval.csv (120 held-out rows with the target column `churned`)."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROWS = 300
MARKER = ".example-model"  # the folder is ours to replace


def customers(rows: int = ROWS, seed: int = 0) -> tuple[pd.DataFrame, pd.Series]:
    """Text, integer and float columns, the float one with gaps; a yes/no target."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "city": rng.choice(["paris", "lyon", "nice"], rows),
            "age": rng.integers(18, 90, rows),
            "income": rng.normal(50, 10, rows),
        }
    )
    frame.loc[::13, "income"] = np.nan
    churned = (frame.age > 50) ^ (frame.city == "nice")
    return frame, pd.Series(np.where(churned, "yes", "no"), name="churned")


def churn_pipeline(max_depth: int = 6) -> Any:
    """One-hot text; imputed, scaled numbers; a small forest."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import RandomForestClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    columns = ColumnTransformer(
        [
            ("text", OneHotEncoder(handle_unknown="ignore"), ["city"]),
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), ["age", "income"]),
        ]
    )
    forest = RandomForestClassifier(n_estimators=5, max_depth=max_depth, random_state=0)
    features, target = customers()
    return make_pipeline(columns, forest).fit(features, target)


def write(folder: Path) -> None:
    """The model and its two data files, in a folder of their own."""
    import joblib

    if folder.exists() and any(folder.iterdir()) and not (folder / MARKER).exists():
        raise SystemExit(f"error: {folder} is not empty and was not written by this command")
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    (folder / MARKER).touch()
    joblib.dump(churn_pipeline(), folder / "churn.joblib")
    features, _ = customers()
    features.head(5).to_csv(folder / "example.csv", index=False)
    held_out, truth = customers(120, seed=1)
    held_out.assign(churned=truth).to_csv(folder / "eval.csv", index=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.example_model", description=__doc__)
    parser.add_argument("folder", type=Path, help="where to write (replaced if written before)")
    args = parser.parse_args(argv)
    write(args.folder)
    names = ", ".join(str(args.folder / n) for n in ("churn.joblib", "example.csv", "eval.csv"))
    sys.stdout.write(f"wrote {names}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
