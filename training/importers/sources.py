"""Which importer reads a source: a file by its suffix, a folder with an MLmodel file by its
flavour. Returns the original, and the export when the file is already one (.onnx)."""

from __future__ import annotations

from pathlib import Path

from training.importers import Export, ImportRefusedError, Original, boosters, sklearn


def read(path: Path, task: str | None) -> tuple[Original, Export | None]:
    if not path.exists():
        raise ImportRefusedError(f"{path} does not exist")
    if path.is_dir():
        from training.importers import mlflow

        if not (path / "MLmodel").is_file():
            raise ImportRefusedError(f"{path} is a folder without an MLmodel file")
        return mlflow.read(path, task)
    suffix = path.suffix.lower()
    if suffix == ".onnx":
        from training.importers import onnx

        return onnx.load(path, task)
    if suffix == ".keras":
        from training.importers import keras

        return keras.read(path), None
    if suffix in boosters.XGBOOST_SUFFIXES + boosters.LIGHTGBM_SUFFIXES:
        return boosters.read(path), None
    if suffix in sklearn.PICKLE_SUFFIXES + (sklearn.SKOPS_SUFFIX,):
        return of_object(sklearn.read(path), str(path)), None
    raise ImportRefusedError(
        f"{path}: unknown kind of file (expected .joblib/.pkl/.pickle, .skops, .json/.ubj "
        "(XGBoost), .txt (LightGBM), .keras, .onnx, or an MLflow model folder)"
    )


def of_object(model: object, where: str) -> Original:
    """A model already in memory (read from a file, or given to publish())."""
    if boosters.is_booster(model):
        raise ImportRefusedError(
            f"{where}: save a bare booster with save_model() and import that file"
        )
    if hasattr(model, "predict") and hasattr(model, "get_params"):
        return sklearn.wrap(model)
    if type(model).__module__.split(".")[0] == "keras":
        from training.importers import keras

        return keras.wrap(model)
    raise ImportRefusedError(f"{where} holds a {type(model).__name__}, not a model this can import")
