"""The README's and the documentation's examples stay true: every command in their fenced blocks
runs, the README first, then the pages of docs/ in the order below, with bash against one real
server (`python -m app`, SERVING_ADMIN_TOKEN=change-me as the README says) on a
copy of the quick registry, from a folder laid out as the repository (`.venv`, `docs/`, `deploy/`,
...; `models/` the registry), and what it prints is compared with what the README shows after
masking what varies (tests/readme_examples.py). The commands that cannot run here are listed
below with the reason; any other command, a new one included, is run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import REPO, ServerProcess
from tests.readme_examples import Block, Command, matches, parse

SETUP = (
    "a set-up command: installs, trains every model and serves until stopped, or runs this suite"
)
SERVER = "starts a server of its own, until stopped (the suite starts its own: tests/helpers.py)"
TOKEN = "needs a server started with SERVING_API_TOKEN (tests/api/test_api_token.py)"
TRAINING = "trains full models for minutes (the walkthrough runs training on one Iris model)"
SYNTAX = "a synopsis with optional [arguments], not a literal command; run in the walkthrough"
DOCKER = "needs a Docker engine, a registry to push to or a cluster (scripts/docker-smoke.sh)"
RAY = "installs Ray (~270 MB) and starts a two-node cluster (make ray-smoke)"
BENCH = "the benchmark: minutes, and wrk"
IMPORTED = "needs an imported regressor (python -m training import); tests/api/test_tabular.py"

NOT_RUN: dict[str, str] = {
    "make serve": SETUP,
    "make test": SETUP,
    "SERVING_ADMIN_TOKEN=change-me make serve": SETUP,
    "make serve HOST=0.0.0.0": SETUP,
    "SERVING_HOST=0.0.0.0 .venv/bin/modelserve serve": SERVER,
    "SERVING_PORT=9000 SERVING_LOG_LEVEL=debug .venv/bin/modelserve serve": SERVER,
    ".venv/bin/modelserve train": TRAINING,
    ".venv/bin/modelserve train --dataset iris": TRAINING,
    ".venv/bin/modelserve train --model mnist-cnn": TRAINING,
    ".venv/bin/modelserve train --missing": TRAINING,
    ".venv/bin/modelserve train --quick --registry-dir /tmp/models": TRAINING,
    ".venv/bin/modelserve promote iris-svm 3 [--label staging]": SYNTAX,
    ".venv/bin/modelserve labels [iris-svm]": SYNTAX,
    ".venv/bin/modelserve rollback iris-svm [--label staging]": SYNTAX,
    ".venv/bin/modelserve compare --dataset mnist [--dataset iris] [--if-stale]": SYNTAX,
    (
        "curl -s localhost:8000/v1/models/iris-knn/predict -H 'Content-Type: application/json' "
        "-d '{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}'"
    ): TOKEN,
    (
        "curl -s localhost:8000/v1/models/iris-knn/predict -H 'Authorization: Bearer s3cret' -H "
        "'Content-Type: application/json' -d '{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}' | head -c "
        "44; echo"
    ): TOKEN,
    "docker build -t modelserve .": DOCKER,
    "docker image ls modelserve:latest": DOCKER,
    "docker history modelserve --format '{{.Size}}\\t{{.CreatedBy}}' | awk '$1 != \"0B\"'": DOCKER,
    'docker run -d --name modelserve -p 8080:8000 -v "$PWD/models:/models:ro" modelserve': DOCKER,
    "docker ps --format 'table {{.Image}}\\t{{.Status}}\\t{{.Ports}}'": DOCKER,
    "curl -s localhost:8080/health/ready": DOCKER,
    (
        "curl -s localhost:8080/v1/models/iris-svm/predict -H 'Content-Type: "
        "application/json' -d '{\"instances\": [[5.1, 3.5, 1.4, 0.2]]}'"
    ): DOCKER,
    "curl -s localhost:8080/v1/models/mnist-cnn/predict/image -F file=@digits/00000-7.png": DOCKER,
    "docker stats --no-stream --format 'table {{.Name}}\\t{{.MemUsage}}' modelserve": DOCKER,
    "docker stop modelserve && docker logs modelserve 2>&1 | tail -4": DOCKER,
    (
        'docker run -d --name modelserve-empty -p 8081:8000 -v "$PWD/empty:/models:ro" modelserve'
    ): DOCKER,
    "curl -s localhost:8081/health/ready": DOCKER,
    "docker logs modelserve-empty": DOCKER,
    (
        "docker build -f Dockerfile.models --build-arg BASE_IMAGE=modelserve:latest -t "
        "modelserve-models:1 models/"
    ): DOCKER,
    "docker image ls modelserve-models": DOCKER,
    "docker run -d --name baked -p 8082:8000 modelserve-models:1": DOCKER,
    "curl -s localhost:8082/health/ready": DOCKER,
    "PORT=8123 docker-compose up -d": DOCKER,
    "docker-compose ps": DOCKER,
    "curl -s localhost:8123/health/ready": DOCKER,
    "docker-compose down": DOCKER,
    "IMAGE=modelserve:0.1.0 scripts/docker-smoke.sh models": DOCKER,
    "docker build -t registry.example.com/modelserve:0.1.0 .": DOCKER,
    (
        "docker build -f Dockerfile.models --build-arg "
        "BASE_IMAGE=registry.example.com/modelserve:0.1.0 -t "
        "registry.example.com/modelserve-models:1 models/"
    ): DOCKER,
    "docker push registry.example.com/modelserve-models:1": DOCKER,
    "kubectl apply -f deploy/k8s/": DOCKER,
    "pip install -e '.[ray]'": RAY,
    "serve run deploy/ray/serve.yaml": RAY,
    "make ray-smoke": RAY,
    "make bench": BENCH,
    ".venv/bin/python -m bench peers --seconds 3 --rounds 3": (
        "installs MLServer and MLflow (~1 GB) and measures for minutes (tests/test_bench.py)"
    ),
    (
        "curl -s localhost:8000/v1/models/house-price/predict -H 'Content-Type: "
        'application/json\' -d \'{"dataframe_records": [{"rooms": 3, "area": 72.5, '
        '"district": null}]}\''
    ): IMPORTED,
}

# Commands whose digits are read by a quick model from photos: compared with the digits masked
# (the fully trained models read them right; the README shows their answer).
DIGITS_VARY = {
    "curl -s 'localhost:8000/v1/models/mnist-cnn/predict/image?probabilities=false' -F "
    "file=@docs/pictures/photo.jpg -F file=@docs/pictures/exif.jpg -F "
    "file=@docs/pictures/canvas.png",
    "curl -s 'localhost:8000/v1/models/mnist-cnn/predict/image?probabilities=false' -F "
    "file=@docs/pictures/photo.jpg",
}


def _key(command: str) -> str:
    """A command as listed: without its trailing comment, blanks and line breaks as one blank."""
    command = re.sub(r"\\\n", " ", command)
    return " ".join(re.sub(r"\s+#.*$", "", command).split())


def _listed(command: Command) -> str | None:
    return NOT_RUN.get(_key(command.text))


# The order the examples run in: the health example's model count comes before the rolling-out
# walkthrough trains two more versions.
PAGES = [
    "README.md",
    *(
        f"docs/{page}.md"
        for page in (
            "index",
            "getting-started",
            "api",
            "monitoring",
            "pictures",
            "web-page",
            "training",
            "rolling-out",
            "security",
            "deployment",
            "benchmark",
            "configuration",
            "troubleshooting",
            # Last: its import adds a model, which the other pages' listings do not show.
            "your-own-models",
        )
    ),
]
BLOCKS = [(page, block) for page in PAGES for block in parse(REPO / page)]
RUN = [
    (page, block)
    for page, block in BLOCKS
    if any(_listed(command) is None for command in block.commands)
]


@dataclass
class Shell:
    """A folder laid out as the repository, and the server the commands talk to."""

    cwd: Path
    env: dict[str, str]
    port: int

    def run(self, command: str) -> subprocess.CompletedProcess[str]:
        command = command.replace("localhost:8000", f"localhost:{self.port}")
        command = command.replace("../shared/datasets/mnist", self.env["MNIST_DIR"])
        return subprocess.run(
            ["bash", "-c", command],
            cwd=self.cwd,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=120,
            check=False,
        )


@pytest.fixture(scope="module")
def shell(
    compared_registry: Path, mnist_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Shell]:
    cwd = tmp_path_factory.mktemp("readme")
    for entry in (
        "app",
        "training",
        "bench",
        "scripts",
        "deploy",
        "docs",
        "Dockerfile",
        "Dockerfile.models",
    ):
        (cwd / entry).symlink_to(REPO / entry)
    (cwd / ".venv").symlink_to(sys.prefix)  # the environment running the tests
    (cwd / "build").symlink_to(REPO / "build")  # perf_analyzer, as make test installs it
    shutil.copytree(compared_registry, cwd / "models")
    server = ServerProcess(cwd / "models", admin_token="change-me")
    try:
        server.wait_ready()
        path = f"{Path(sys.prefix) / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
        env = {**os.environ, "PATH": path, "MNIST_DIR": str(mnist_dir)}
        yield Shell(cwd, env, server.port)
    finally:
        server.stop()


def test_every_page_of_the_site_is_run() -> None:
    pages = {str(path.relative_to(REPO)) for path in (REPO / "docs").glob("*.md")}
    assert sorted(pages - set(PAGES)) == []


def test_every_listed_command_is_in_the_readme_or_the_docs() -> None:
    commands = {_key(command.text) for _page, block in BLOCKS for command in block.commands}
    assert sorted(set(NOT_RUN) - commands) == []
    assert sorted(DIGITS_VARY - commands) == []


def test_the_readme_and_the_docs_have_examples() -> None:
    assert sum(len(block.commands) for page, block in RUN if page == "README.md") >= 4
    assert sum(len(block.commands) for _page, block in RUN) > 50


@pytest.mark.parametrize(
    ("page", "block"), RUN, ids=[f"{page}:{block.line}" for page, block in RUN]
)
def test_example_block(page: str, block: Block, shell: Shell) -> None:
    for command in block.commands:
        if _listed(command) is not None:
            continue
        result = shell.run(command.text)
        where = f"{page}:{command.line}: $ {command.text}"
        if command.expected is None:
            assert result.returncode == 0, f"{where}\nexit {result.returncode}\n{result.stdout}"
        else:
            digits = _key(command.text) in DIGITS_VARY
            assert matches(result.stdout, command.expected, digits), (
                f"{where}\n--- README\n{command.expected}\n--- printed\n{result.stdout}"
            )


def test_masks_keep_what_the_reader_relies_on() -> None:
    printed = '{"label":"setosa","probabilities":{"setosa":0.91,"virginica":1e-6}} in 0.8 s'
    assert matches(
        printed, '{"label":"setosa","probabilities":{"setosa":0.98,"virginica":0.0}} in 3.1 s'
    )
    assert not matches(
        printed, '{"label":"virginica","probabilities":{"setosa":0.98,"virginica":0.0}}'
    )
    assert not matches(printed, '{"label":"setosa","probabilities":{"setosa":0.98}} in 0.8 s')
    assert matches("HTTP/1.1 200 OK\nx: 1\ny: 2\n\n{}", "HTTP/1.1 200 OK\n...\n\n{}")
    assert not matches("HTTP/1.1 404 Not Found\nx: 1\n\n{}", "HTTP/1.1 200 OK\n...\n\n{}")
