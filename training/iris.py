"""The six Iris classifiers (scikit-learn, all four features)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score, train_test_split
from sklearn.naive_bayes import GaussianNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from training.plots import decision_regions_geometry, decision_regions_plot
from training.sklearn_fit import Estimator, fit_sklearn
from training.spec import Dataset, ModelSpec, Trained

SEED = 0
TEST_FRACTION = 0.3
FEATURES = ["sepal_length", "sepal_width", "petal_length", "petal_width"]


def load() -> Dataset:
    """Iris as shipped with scikit-learn: a stratified 70/30 split with a fixed seed."""
    bunch = load_iris()
    train_x, test_x, train_y, test_y = train_test_split(
        bunch.data, bunch.target, test_size=TEST_FRACTION, stratify=bunch.target, random_state=SEED
    )
    return Dataset(
        name="iris",
        train_features=train_x,
        train_targets=train_y,
        test_features=test_x,
        test_targets=test_y,
        class_labels=[str(name) for name in bunch.target_names],
        input_spec={
            "kind": "tabular",
            "n_features": len(FEATURES),
            "features": [{"name": name, "unit": "cm"} for name in FEATURES],
        },
        split=f"stratified {1 - TEST_FRACTION:.0%}/{TEST_FRACTION:.0%} train/test, seed {SEED}",
        source_files=[Path(str(resources.files("sklearn.datasets.data") / "iris.csv"))],
        seed=SEED,
    )


def _scaled(estimator: Estimator) -> Pipeline:
    return make_pipeline(StandardScaler(), estimator)


ESTIMATORS: dict[str, Estimator] = {
    "logistic-regression": _scaled(LogisticRegression(max_iter=1000, random_state=SEED)),
    "svm": _scaled(SVC(kernel="linear", random_state=SEED)),
    "decision-tree": DecisionTreeClassifier(max_depth=4, random_state=SEED),
    "random-forest": RandomForestClassifier(n_estimators=100, random_state=SEED),
    "knn": _scaled(KNeighborsClassifier(n_neighbors=5)),
    "naive-bayes": GaussianNB(),
}


def _probabilistic(algorithm: str) -> Estimator:
    """A fresh estimator; the SVM gets Platt-scaled probabilities (calibrated by CV)."""
    from sklearn.calibration import CalibratedClassifierCV

    estimator = clone(ESTIMATORS[algorithm])
    if algorithm == "svm":
        return CalibratedClassifierCV(estimator, ensemble=False, cv=5)
    return estimator


def train(algorithm: str, data: Dataset) -> Trained:
    """Fit one algorithm; add 5-fold CV accuracy and the decision-regions plot."""
    trained = fit_sklearn(_probabilistic(algorithm), data)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)
    scores = cross_val_score(
        _probabilistic(algorithm), data.train_features, data.train_targets, cv=folds
    )
    trained.extra_metrics["cv_accuracy"] = {
        "folds": 5,
        "mean": round(float(scores.mean()), 6),
        "std": round(float(scores.std()), 6),
    }
    geometry = decision_regions_geometry(data.train_features, FEATURES)
    trained.extra_metrics["decision_regions"] = geometry
    write_model = trained.write_files

    def write_files(folder: Path) -> None:
        write_model(folder)
        sepal = data.train_features[:, :2]
        flat = _probabilistic(algorithm).fit(sepal, data.train_targets)
        decision_regions_plot(
            folder / "decision_regions.png",
            lambda grid: np.asarray(flat.predict(grid[:, :2])),
            data.train_features,
            data.train_targets,
            data.class_labels,
            f"iris-{algorithm}: refit on sepal features only",
            geometry,
        )

    trained.write_files = write_files
    return trained


def _spec(algorithm: str) -> ModelSpec:
    return ModelSpec(
        name=f"iris-{algorithm}",
        dataset="iris",
        algorithm=algorithm,
        framework="sklearn",
        floor=0.90,
        fit=lambda data, quick: train(algorithm, data),
        seed=SEED,
    )


SPECS = [_spec(algorithm) for algorithm in ESTIMATORS]
