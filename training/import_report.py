"""What python -m training import prints: the version, its inputs, the verification figures,
the evaluation and the promotion."""

from __future__ import annotations

from training import verify
from training.importing import Imported


def report(imported: Imported, algorithm: str, source: str) -> str:
    columns = ", ".join(
        f"{c['name']} {c['type']}{' (optional)' if c['optional'] else ''}" for c in imported.inputs
    )
    lines = [
        f"imported {source} ({algorithm}) as {imported.name} version {imported.version} "
        f"in {imported.seconds:.1f} s",
        f"  artifact     {imported.artifact}, {imported.artifact_bytes / 1e3:.1f} kB "
        f"({'; '.join(imported.notes)})",
        f"  inputs       {columns}",
        f"  verification {verify.summary(imported.verification)}",
    ]
    metrics = imported.metrics
    if "accuracy" in metrics:
        lines.append(
            f"  evaluation   accuracy {metrics['accuracy']:.4f}, "
            f"macro F1 {metrics['macro_f1']:.4f} on {metrics['test_samples']} rows"
        )
    elif "r2" in metrics:
        lines.append(
            f"  evaluation   MAE {metrics['mae']:.4g}, RMSE {metrics['rmse']:.4g}, "
            f"R² {metrics['r2']:.4f} on {metrics['test_samples']} rows"
        )
    lines.append(f"  promotion    {imported.promotion}")
    return "\n".join(lines) + "\n"
