from __future__ import annotations

import json
from pathlib import Path

import pytest

from training.registry_writer import existing_versions, file_digest, save_model


def _write_artifact(folder: Path) -> None:
    (folder / "model.bin").write_bytes(b"weights")


def test_versions_increment_and_never_overwrite(tmp_path: Path) -> None:
    first = save_model(tmp_path, "demo", _write_artifact, {"framework": "sklearn"})
    second = save_model(tmp_path, "demo", _write_artifact, {"framework": "sklearn"})
    assert (first.name, second.name) == ("1", "2")
    assert json.loads((second / "metadata.json").read_text())["version"] == 2
    assert existing_versions(tmp_path / "demo") == [1, 2]


def test_versions_compare_as_integers(tmp_path: Path) -> None:
    for number in (2, 10, 9):
        (tmp_path / "demo" / str(number)).mkdir(parents=True)
    assert save_model(tmp_path, "demo", _write_artifact, {}).name == "11"


def test_metadata_records_checksum_and_size_of_every_file(tmp_path: Path) -> None:
    folder = save_model(tmp_path, "demo", _write_artifact, {})
    files = json.loads((folder / "metadata.json").read_text())["files"]
    assert files == {"model.bin": file_digest(folder / "model.bin")}
    assert files["model.bin"]["bytes"] == len(b"weights")


def test_published_version_is_readable_by_other_users(tmp_path: Path) -> None:
    folder = save_model(tmp_path, "demo", _write_artifact, {})
    assert folder.stat().st_mode & 0o777 == 0o755


def test_interrupted_write_leaves_no_version_and_no_staging(tmp_path: Path) -> None:
    def crash(folder: Path) -> None:
        (folder / "model.bin").write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        save_model(tmp_path, "demo", crash, {})
    assert list((tmp_path / "demo").iterdir()) == []


def test_leftover_staging_folder_is_not_a_version(tmp_path: Path) -> None:
    staging = tmp_path / "demo" / ".staging-abc123"
    staging.mkdir(parents=True)
    (staging / "model.bin").write_bytes(b"half")
    assert existing_versions(tmp_path / "demo") == []
    assert save_model(tmp_path, "demo", _write_artifact, {}).name == "1"


@pytest.mark.parametrize("name", ["../escape", "Upper", "", "a/b", "x" * 80])
def test_invalid_model_name_is_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match="invalid model name"):
        save_model(tmp_path, name, _write_artifact, {})
