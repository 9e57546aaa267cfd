"""The pipeline the three servers answer for: twenty mixed columns of synthetic customers, a
ColumnTransformer (gaps imputed, text one-hot encoded) and a HistGradientBoostingClassifier."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SEED = 0
TARGET = "churned"
TRAIN_ROWS = 20_000
# Numbers with gaps (float), whole numbers without (int), text categories (string).
WITH_GAPS = (
    "age",
    "income",
    "balance",
    "credit_score",
    "monthly_charges",
    "total_charges",
    "days_since_login",
    "satisfaction",
)
WHOLE = ("tenure_months", "products", "support_calls", "logins_per_month", "dependents")
CATEGORIES = {
    "country": ("fr", "de", "es", "it", "uk", "nl", "be", "pt"),
    "plan": ("basic", "standard", "premium", "family"),
    "payment_method": ("card", "transfer", "direct_debit", "paypal", "voucher"),
    "device": ("android", "ios", "web", "desktop"),
    "channel": ("shop", "online", "partner", "phone"),
    "contract": ("monthly", "yearly", "two_years"),
    "segment": ("student", "worker", "retired", "business", "unknown"),
}
COLUMNS = (*WITH_GAPS, *WHOLE, *CATEGORIES)


def customers(rows: int, seed: int = SEED) -> tuple[pd.DataFrame, pd.Series]:
    """Twenty columns of customers, about 6 % of each gappy column missing; yes/no churn."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "age": rng.normal(45, 14, rows).clip(18, 95).round(),
            "income": rng.lognormal(10.5, 0.5, rows).round(2),
            "balance": rng.normal(2_500, 1_800, rows).round(2),
            "credit_score": rng.normal(650, 90, rows).clip(300, 850).round(),
            "monthly_charges": rng.uniform(10, 120, rows).round(2),
            "total_charges": rng.uniform(10, 8_000, rows).round(2),
            "days_since_login": rng.exponential(12, rows).round(1),
            "satisfaction": rng.uniform(0, 10, rows).round(1),
            "tenure_months": rng.integers(0, 120, rows),
            "products": rng.integers(1, 6, rows),
            "support_calls": rng.poisson(1.5, rows),
            "logins_per_month": rng.poisson(9, rows),
            "dependents": rng.integers(0, 5, rows),
        }
    )
    for name, values in CATEGORIES.items():
        frame[name] = rng.choice(values, rows)
    for name in WITH_GAPS:
        frame.loc[rng.random(rows) < 0.06, name] = np.nan
    score = (
        0.04 * (frame.monthly_charges.fillna(60) - 60)
        - 0.03 * frame.tenure_months
        + 0.5 * frame.support_calls
        - 0.3 * frame.satisfaction.fillna(5)
        + 0.05 * frame.days_since_login.fillna(12)
        + np.where(frame.contract == "monthly", 1.2, -0.4)
        + np.where(frame.payment_method == "voucher", 0.8, 0.0)
        + np.where(frame.plan == "premium", -0.6, 0.0)
        + rng.normal(0, 1, rows)
    )
    return frame, pd.Series(np.where(score > 0, "yes", "no"), name=TARGET)


def pipeline(rows: int = TRAIN_ROWS, iterations: int = 100) -> Any:
    """Gaps imputed by the median, text one-hot encoded, then gradient-boosted trees."""
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder

    columns = ColumnTransformer(
        [
            ("numbers", SimpleImputer(strategy="median"), [*WITH_GAPS, *WHOLE]),
            (
                "text",
                OneHotEncoder(handle_unknown="ignore", sparse_output=False),
                list(CATEGORIES),
            ),
        ]
    )
    boosted = HistGradientBoostingClassifier(max_iter=iterations, random_state=SEED)
    features, target = customers(rows)
    return make_pipeline(columns, boosted).fit(features, target)


@dataclass(frozen=True)
class Files:
    """What the bench writes once: the model and the rows the import checks it on."""

    joblib: Path
    example: Path
    eval: Path


def write(folder: Path) -> Files:
    """The fitted pipeline as a joblib file, 5 example rows and 2,000 held-out rows (CSV)."""
    import joblib

    folder.mkdir(parents=True, exist_ok=True)
    files = Files(folder / "customers.joblib", folder / "example.csv", folder / "eval.csv")
    joblib.dump(pipeline(), files.joblib)
    features, _ = customers(5, seed=SEED + 1)
    features.to_csv(files.example, index=False)
    held_out, truth = customers(2_000, seed=SEED + 2)
    held_out.assign(**{TARGET: truth}).to_csv(files.eval, index=False)
    return files
