"""publish(): python -m training import for a model in memory, from a notebook."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from training import verify
from training.importers import sources
from training.importing import ImportData, Imported, ImportOptions, import_original


def publish(
    model: Any,
    name: str,
    example: pd.DataFrame | None = None,
    eval: tuple[pd.DataFrame, Any] | None = None,  # the spelling
    task: str | None = None,
    registry_dir: Path | str = "models",
    promote: bool = True,
    tolerance: float = verify.DEFAULT_TOLERANCE,
    keep_pickle: bool = False,
    dataset: str | None = None,
) -> Imported:
    """Publish a fitted model as a new version of `name`; ImportRefusedError says why not.

    `eval=(X_test, y_test)`: the promotion gate compares with production on the same rows (their
    SHA-256, as for an eval file). `dataset`: what it is compared with (default: `name`)."""
    data = ImportData(example=example)
    if eval is not None:
        features, target = eval
        data.eval_features = pd.DataFrame(features)
        data.eval_target = pd.Series(target, name=getattr(target, "name", None) or "target")
        hashed = pd.util.hash_pandas_object(
            pd.concat(
                [
                    data.eval_features.reset_index(drop=True),
                    data.eval_target.reset_index(drop=True),
                ],
                axis=1,
            ),
            index=False,
        )
        import hashlib

        data.eval_sha256 = hashlib.sha256(hashed.to_numpy().tobytes()).hexdigest()
        data.eval_source = "publish(eval=...)"
    options = ImportOptions(
        name, Path(registry_dir), task, promote, tolerance, keep_pickle, dataset=dataset
    )
    return import_original(sources.of_object(model, "publish()"), data, options)
