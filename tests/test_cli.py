"""The `modelserve` command: one --help tree over every command, each handed to its module."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import entry_points

import pytest

from modelserve_cli.main import COMMANDS, main
from tests.helpers import REPO

EXPECTED = ["serve", "train", "import", "promote", "labels", "rollback", "compare", "bench"]


def test_modelserve_is_the_projects_console_script() -> None:
    (script,) = entry_points(group="console_scripts", name="modelserve")
    assert script.value == "modelserve_cli.main:main"


def test_help_lists_every_command_with_examples(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    printed = capsys.readouterr().out
    assert list(COMMANDS) == EXPECTED
    for name in EXPECTED:
        assert f"\n  {name} " in printed and f"modelserve {name} " in printed, name
    assert "examples:" in printed


def test_no_command_prints_the_help_and_fails(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "commands:" in capsys.readouterr().out


def test_an_unknown_command_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["trian"]) == 2
    assert "unknown command 'trian'" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["serve", "train", "promote", "labels", "rollback", "compare"])
def test_each_command_explains_itself(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    assert capsys.readouterr().out.startswith("usage: ")


def test_bench_help_runs_the_benchmarks_own() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "modelserve_cli", "bench", "--help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0 and "--rounds" in result.stdout


def test_serve_quick_goes_with_train_missing(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--quick"]) == 2
    assert "--train-missing" in capsys.readouterr().err
