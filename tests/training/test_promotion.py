"""The promotion gate and the label commands, on real Iris models in a temporary registry."""

from __future__ import annotations

import json
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from training import labels, pipeline
from training.__main__ import NOT_PROMOTED, main


def _labels(registry: Path, name: str) -> dict[str, object]:
    return json.loads((registry / name / "labels.json").read_text())  # type: ignore[no-any-return]


def test_quick_versions_are_published_but_not_promoted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["--quick", "--model", "iris-knn", "--registry-dir", str(tmp_path)]
    assert main(args) == NOT_PROMOTED
    out = capsys.readouterr().out
    assert "NOT PROMOTED: trained with --quick" in out and "published but not promoted" in out
    assert (tmp_path / "iris-knn" / "1" / "metadata.json").is_file()
    assert not (tmp_path / "iris-knn" / "labels.json").exists()
    assert main([*args, "--no-promote"]) == 0
    assert "not promoted (--no-promote)" in capsys.readouterr().out


def test_full_training_promotes_then_worse_and_below_floor_versions_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    args = ["--model", "iris-knn", "--registry-dir", str(tmp_path)]
    assert main(args) == 0
    assert "promoted to production" in capsys.readouterr().out
    document = _labels(tmp_path, "iris-knn")
    assert document["labels"] == {"production": {"version": 1}}
    [entry] = document["history"]  # type: ignore[misc]
    assert entry["from"] is None and entry["to"] == {"version": 1} and entry["by"]
    # Production is better than anything this run can train: the new version is refused.
    path = tmp_path / "iris-knn" / "1" / "metadata.json"
    metadata = json.loads(path.read_text())
    metadata["metrics"]["accuracy"] = 1.0
    path.write_text(json.dumps(metadata))
    assert main(args) == NOT_PROMOTED
    out = capsys.readouterr().out
    assert "below production's (version 1: 1.0000) by more than 0.005" in out
    assert main([*args, "--tolerance", "0.1"]) == 0  # within a wider tolerance: promoted
    assert _labels(tmp_path, "iris-knn")["labels"] == {"production": {"version": 3}}
    specs = [replace(s, floor=1.01) if s.name == "iris-knn" else s for s in pipeline.SPECS]
    monkeypatch.setattr(pipeline, "SPECS", specs)
    assert main(args) == NOT_PROMOTED
    assert "below its floor 1.01" in capsys.readouterr().out
    assert _labels(tmp_path, "iris-knn")["labels"] == {"production": {"version": 3}}


def test_promote_rollback_and_labels_commands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    registry = str(tmp_path)
    train = ["--quick", "--no-promote", "--model", "iris-svm", "--registry-dir", registry]
    assert main(train) == 0 and main(train) == 0
    capsys.readouterr()
    assert main(["promote", "iris-svm", "1", "--registry-dir", registry]) == 0
    assert main(["--registry-dir", registry, "promote", "iris-svm", "2"]) == 0
    assert main(["promote", "iris-svm", "2", "--label", "staging", "--registry-dir", registry]) == 0
    assert 'production {"version": 1} -> {"version": 2}' in capsys.readouterr().out
    assert main(["rollback", "iris-svm", "--registry-dir", registry]) == 0
    assert _labels(tmp_path, "iris-svm")["labels"] == {
        "production": {"version": 1},
        "staging": {"version": 2},
    }
    capsys.readouterr()
    assert main(["labels", "iris-svm", "--registry-dir", registry]) == 0
    shown = capsys.readouterr().out
    assert 'production   -> {"version": 1}' in shown and "python -m training rollback" in shown
    for bad in (
        ["promote", "iris-svm", "9"],
        ["promote", "iris-svm", "1", "--label", "Prod"],
        ["promote", "iris-nope", "1"],
        ["rollback", "iris-svm", "--label", "canary"],
    ):
        assert main([*bad, "--registry-dir", registry]) == 2, bad
    assert "no version 9" in capsys.readouterr().err


def test_label_targets_are_checked(tmp_path: Path) -> None:
    root = tmp_path / "m"
    for version in (1, 2):
        (root / str(version)).mkdir(parents=True)
    split = {"version": 1, "canary": {"version": 2, "weight": 0.1}}
    assert labels.change(root, "production", split, "test") is None
    assert labels.read(root)["labels"]["production"] == split
    for target in (
        {"version": 3},
        {"version": 1, "canary": {"version": 1, "weight": 0.5}},
        {"version": 1, "canary": {"version": 2, "weight": 1.5}},
        {"version": 1, "shadow": {"version": 2}},
        {"version": 1, "extra": 1},
        [1],
    ):
        with pytest.raises(labels.LabelError):
            labels.change(root, "production", target, "test")


def test_concurrent_writers_lose_no_change(tmp_path: Path) -> None:
    root = tmp_path / "m"
    for version in (1, 2):
        (root / str(version)).mkdir(parents=True)

    def flip(label: str) -> None:
        for i in range(40):
            labels.change(root, label, {"version": 1 + i % 2}, label)

    threads = [threading.Thread(target=flip, args=(name,)) for name in ("a", "b", "c")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    document = labels.read(root)
    assert len(document["history"]) == labels.MAX_HISTORY  # the newest; the rest moved aside
    assert len(labels.history(root)) == 120
    assert set(document["labels"]) == {"a", "b", "c"}


def test_a_long_history_is_bounded_and_rollback_still_finds_an_older_target(
    tmp_path: Path,
) -> None:
    root = tmp_path / "m"
    for version in (1, 2, 3):
        (root / str(version)).mkdir(parents=True)
    labels.change(root, "production", {"version": 1}, "test")
    labels.change(root, "production", {"version": 2}, "test")
    for i in range(250):  # another label changes for a long time
        labels.change(root, "staging", {"version": 1 + i % 3}, f"change {i}")
    document = labels.read(root)
    assert len(document["history"]) == labels.MAX_HISTORY
    assert document["history"][-1]["by"] == "change 249"  # the newest kept
    everything = labels.history(root)
    assert [entry["by"] for entry in everything[2:]] == [f"change {i}" for i in range(250)]
    # production's last change lies in the moved-aside part: rollback reads it there.
    assert labels.previous(root, "production") == {"version": 1}
