"""modelserve COMMAND ...: hands each command to the module that does it (app/ serves,
training/ trains and moves labels, bench/ measures), so those never import each other."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass

from modelserve_cli import serve


def _training(*prefix: str) -> Callable[[list[str]], int]:
    def run(arguments: list[str]) -> int:
        from training.__main__ import exit_on_sigterm, main

        exit_on_sigterm()
        return main([*prefix, *arguments])

    return run


def _bench(arguments: list[str]) -> int:
    # bench/ is a folder of the repository, not an installed package: run from its root.
    return subprocess.call([sys.executable, "-m", "bench", *arguments])


@dataclass(frozen=True)
class Command:
    summary: str
    same_as: str
    run: Callable[[list[str]], int]


COMMANDS: dict[str, Command] = {
    "serve": Command(
        "serve the model registry (--train-missing: train what is missing while serving)",
        "python -m app",
        serve.main,
    ),
    "train": Command("train models into the registry", "python -m training", _training()),
    "import": Command(
        "import a model of yours into the registry",
        "python -m training import",
        _training("import"),
    ),
    "promote": Command(
        "point a label (production) at a version",
        "python -m training promote",
        _training("promote"),
    ),
    "labels": Command(
        "a model's labels and their history", "python -m training labels", _training("labels")
    ),
    "rollback": Command(
        "undo a label's last change", "python -m training rollback", _training("rollback")
    ),
    "compare": Command(
        "compare a dataset's models: accuracy against serving cost",
        "python -m training compare",
        _training("compare"),
    ),
    "bench": Command("measure the server under load (wrk)", "python -m bench", _bench),
}

EXAMPLES = """examples:
  modelserve serve                                  serve models/ on http://127.0.0.1:8000
  modelserve serve --train-missing                  what make serve runs
  SERVING_HOST=0.0.0.0 modelserve serve             listen on every interface
  modelserve train --dataset iris                   a new version of the six Iris models
  modelserve train --model mnist-cnn --quick        tiny data, one epoch
  modelserve import model.onnx --name my-model      serve a model of yours
  modelserve promote iris-svm 3                     point production at version 3
  modelserve labels iris-svm                        its labels and their history
  modelserve rollback iris-svm                      undo production's last change
  modelserve compare --dataset mnist                the MNIST models side by side
  modelserve bench --seconds 1 --rounds 1           a short benchmark

modelserve COMMAND --help explains a command's options."""


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [
        "usage: modelserve [-h] COMMAND ...",
        "",
        "Train, import and serve classifiers from a versioned model registry.",
        "",
        "commands:",
        *(
            f"  {name:<{width}}  {command.summary} ({command.same_as})"
            for name, command in COMMANDS.items()
        ),
        "",
        EXAMPLES,
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    arguments = sys.argv[1:] if argv is None else argv
    if not arguments or arguments[0] in ("-h", "--help", "help"):
        sys.stdout.write(usage())
        return 0 if arguments else 2
    command = COMMANDS.get(arguments[0])
    if command is None:
        sys.stderr.write(f"modelserve: unknown command {arguments[0]!r}\n\n{usage()}")
        return 2
    return command.run(arguments[1:])
