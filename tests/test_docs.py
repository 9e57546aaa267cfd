"""The documentation site (mkdocs.yml, docs/): it builds strictly, reads offline, its
configuration page is the Settings class's, and it explains every error code. Its examples run
in tests/test_readme.py."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.helpers import REPO

# <link href> and <script src> to another host: what a page would fetch when it opens.
FETCHED = re.compile(r"<(?:link|script)\b[^>]*?\b(?:href|src)=\"(https?:)?//", re.IGNORECASE)


def _mkdocs(*arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", *arguments],
        cwd=REPO,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_site_builds_strictly_and_fetches_nothing_from_elsewhere(tmp_path: Path) -> None:
    result = _mkdocs("build", "--strict", "--site-dir", str(tmp_path))
    assert result.returncode == 0, result.stderr
    pages = list(tmp_path.glob("*.html"))
    assert len(pages) >= 14
    for page in pages:
        assert FETCHED.search(page.read_text()) is None, page.name
    styles = "".join(path.read_text() for path in tmp_path.rglob("*.css"))
    assert "fonts.googleapis" not in styles and "fonts.gstatic" not in styles


def test_the_configuration_page_is_generated_from_the_settings() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/settings_reference.py", "--check"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_troubleshooting_explains_every_error_code() -> None:
    codes = set(re.findall(r'code = "(\w+)"', (REPO / "app" / "errors.py").read_text()))
    codes |= set(
        re.findall(r'_refuse\(\d+, "(\w+)"', (REPO / "app/front/http_protocol.py").read_text())
    )
    page = (REPO / "docs" / "troubleshooting.md").read_text()
    assert sorted(code for code in codes if f"`{code}`" not in page) == []


def test_the_readme_is_short_and_says_nothing_a_user_cannot_follow() -> None:
    readme = (REPO / "README.md").read_text()
    assert len(readme.splitlines()) <= 160
    for path in [REPO / "README.md", *(REPO / "docs").glob("*.md")]:
        text = path.read_text()
        assert re.search(r"\bissue \d+|\.\./baseline|the code before", text) is None, path.name
