"""The eight MNIST digit classifiers: six scikit-learn models and two Keras networks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import PCA
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import BernoulliNB
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MaxAbsScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from training.datasets import mnist as mnist_files
from training.sklearn_fit import Estimator, builder
from training.spec import Dataset, ModelSpec

SEED = 42
QUICK_TRAIN, QUICK_TEST = 2000, 500
# The RBF SVM's fit grows with the square of the rows: a fixed, seeded subset keeps it in budget.
SVM_TRAIN_ROWS = 30000


def load(folder: Path | None, quick: bool) -> Dataset:
    """MNIST as 784 raw pixels (0-255, float32); the official 10,000 images are the test set."""
    found = mnist_files.locate(folder)
    limits = (QUICK_TRAIN, QUICK_TEST) if quick else (None, None)
    raw = mnist_files.load(found, *limits)
    return Dataset(
        name="mnist",
        train_features=raw.train_images.reshape(len(raw.train_images), -1).astype(np.float32),
        train_targets=raw.train_labels.astype(np.int64),
        test_features=raw.test_images.reshape(len(raw.test_images), -1).astype(np.float32),
        test_targets=raw.test_labels.astype(np.int64),
        class_labels=[str(digit) for digit in range(10)],
        input_spec={
            "kind": "image",
            "n_features": 784,
            "shape": [28, 28],
            "colour": "greyscale",
            "range": [0, 255],
            "ink": "bright",
            "note": "MNIST convention: 0 is background, 255 full ink; digit fitted in 20x20, "
            "centred by centre of mass in 28x28",
        },
        split="official 60,000 train / 10,000 test"
        + (f" (quick mode: first {QUICK_TRAIN} / {QUICK_TEST})" if quick else ""),
        source_files=[found / name for name in mnist_files.FILES],
    )


def _logistic_regression(quick: bool) -> Estimator:
    return make_pipeline(MaxAbsScaler(), LogisticRegression(max_iter=100, C=0.1, random_state=SEED))


def _svm(quick: bool) -> Estimator:
    svc = SVC(kernel="rbf", C=5.0, gamma="scale", random_state=SEED)
    return make_pipeline(
        MaxAbsScaler(),
        PCA(n_components=50, random_state=SEED),
        CalibratedClassifierCV(svc, ensemble=False, cv=3),
    )


def _knn(quick: bool) -> Estimator:
    # PCA to 50 float32 components: a 12 MB model instead of 47 MB of raw pixels, and more accurate.
    # Uniform votes: skl2onnx's export of weights="distance" disagreed with scikit-learn on 816
    # of the 10,000 test digits (probabilities off by up to 0.09, in double precision too), so
    # the model could only be served from its pickle. With uniform votes the export agrees on
    # every digit; ties between classes go to the lower class index in both (argmax), and
    # accuracy is 0.9748 instead of 0.9762.
    return make_pipeline(
        MaxAbsScaler(),
        PCA(n_components=50, random_state=SEED),
        KNeighborsClassifier(n_neighbors=5, weights="uniform"),
    )


def _random_forest(quick: bool) -> Estimator:
    return RandomForestClassifier(
        n_estimators=10 if quick else 100, min_samples_leaf=2, n_jobs=-1, random_state=SEED
    )


def _decision_tree(quick: bool) -> Estimator:
    return DecisionTreeClassifier(max_depth=20, min_samples_leaf=2, random_state=SEED)


def _naive_bayes(quick: bool) -> Estimator:
    # Bernoulli: MNIST pixels are nearly binary, ink or paper.
    return BernoulliNB(binarize=127.5)


def _spec(
    algorithm: str, factory: object, floor: float, train_rows: int | None = None
) -> ModelSpec:
    return ModelSpec(
        name=f"mnist-{algorithm}",
        dataset="mnist",
        algorithm=algorithm,
        framework="sklearn",
        floor=floor,
        fit=builder(factory, train_rows),  # type: ignore[arg-type]
        seed=SEED,
    )


SPECS = [
    _spec("logistic-regression", _logistic_regression, 0.915),
    _spec("svm", _svm, 0.975, SVM_TRAIN_ROWS),
    _spec("knn", _knn, 0.965),
    _spec("random-forest", _random_forest, 0.965),
    _spec("decision-tree", _decision_tree, 0.85),
    _spec("naive-bayes", _naive_bayes, 0.80),
]
