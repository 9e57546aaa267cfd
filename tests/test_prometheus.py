"""The monitoring files of deploy/ (issue 26): the alert rules and scrape config pass promtool and
its unit tests, the Grafana dashboard has its panels, and a real Prometheus (Debian's
`prometheus` package, on loopback) scraping a real server fires the drift alert for a shifted
column and for no other. Skipped, saying why, without promtool and prometheus on PATH."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from tests.helpers import REPO, ServerProcess, free_port
from tests.tabular_models import TabularModels, churn_frame, records, with_drift_references

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "modelserve.json"
INSTALL = "apt-get install prometheus (make test does it when run as root)"
ALERT_SECONDS = 60


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"no {name} on PATH: {INSTALL}")
    return path


def _promtool(*arguments: str, cwd: Path = PROMETHEUS_DIR) -> str:
    done = subprocess.run(
        [_binary("promtool"), *arguments],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


def test_the_scrape_config_is_valid() -> None:
    out = _promtool("check", "config", "prometheus.yml")
    assert "SUCCESS: 1 rule files found" in out


def test_the_alert_rules_are_valid() -> None:
    out = _promtool("check", "rules", "alerts.yml")
    assert "SUCCESS: 5 rules found" in out


def test_the_alert_rules_pass_their_unit_tests() -> None:
    """alerts_test.yml: drift fires after 10 minutes above 0.25 for the shifted column only."""
    assert "SUCCESS" in _promtool("test", "rules", "alerts_test.yml")


def _dashboard() -> dict[str, Any]:
    result: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return result


def _targets(dashboard: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {p["title"]: p["targets"] for p in dashboard["panels"] if p["type"] != "row"}


def test_the_dashboard_has_a_view_per_model() -> None:
    dashboard = _dashboard()
    assert [i["name"] for i in dashboard["__inputs"]] == ["DS_PROMETHEUS"]
    (model,) = dashboard["templating"]["list"]
    assert model["name"] == "model"
    assert model["query"]["query"].startswith("label_values(serving_requests_total")
    rows = [p for p in dashboard["panels"] if p["type"] == "row"]
    assert [r["repeat"] for r in rows] == ["model"]
    targets = _targets(dashboard)
    assert set(targets) == {
        "Request rate",
        "Predict latency p50 / p99",
        "Error rate (5xx)",
        "Input drift PSI per feature",
        "Prediction drift PSI",
    }
    exprs = [t["expr"] for ts in targets.values() for t in ts]
    assert all('model="$model"' in e for e in exprs), exprs
    assert any("histogram_quantile(0.99, " in e for e in exprs)
    assert any("histogram_quantile(0.5, " in e for e in exprs)
    for panel in dashboard["panels"]:
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == "${DS_PROMETHEUS}"
            assert all(t["datasource"]["uid"] == "${DS_PROMETHEUS}" for t in panel["targets"])
    for title in ("Input drift PSI per feature", "Prediction drift PSI"):
        panel = next(p for p in dashboard["panels"] if p["title"] == title)
        steps = panel["fieldConfig"]["defaults"]["thresholds"]["steps"]
        assert [s["value"] for s in steps] == [None, 0.1, 0.25]


def test_the_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    """Every panel's query, its Grafana variables filled in, as recording rules for promtool."""
    rules = []
    for number, targets in enumerate(_targets(_dashboard()).values()):
        for target in targets:
            expr = target["expr"].replace("$model", "churn").replace("$__rate_interval", "1m")
            assert "$" not in expr, expr
            rules.append({"record": f"dashboard:query{number}{target['refId']}", "expr": expr})
    path = tmp_path / "dashboard.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    assert f"SUCCESS: {len(rules)} rules found" in _promtool("check", "rules", str(path))


def _rules_with_drift_for(drift_for: str) -> dict[str, Any]:
    """alerts.yml with the drift alert's `for` shortened to `drift_for` (a test copy)."""
    rules = yaml.safe_load((PROMETHEUS_DIR / "alerts.yml").read_text())
    (drift,) = [r for g in rules["groups"] for r in g["rules"] if r["alert"] == "ModelInputDrift"]
    drift["for"] = drift_for
    result: dict[str, Any] = rules
    return result


@pytest.fixture
def prometheus_server(
    tabular_models: TabularModels, tmp_path: Path
) -> Iterator[tuple[ServerProcess, str]]:
    """A real server on the churn model with drift references, and a real Prometheus scraping
    it every second with the drift alert's `for` at 2 s; both stopped at the end."""
    binary = _binary("prometheus")
    server = ServerProcess(with_drift_references(tabular_models, tmp_path / "models"))
    (tmp_path / "alerts.yml").write_text(yaml.safe_dump(_rules_with_drift_for("2s")))
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [
            {
                "job_name": "modelserve",
                "static_configs": [{"targets": [f"127.0.0.1:{server.port}"]}],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("w")
    prometheus = subprocess.Popen(
        [
            binary,
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        server.wait_ready()
        yield server, f"http://127.0.0.1:{port}"
    finally:
        prometheus.terminate()
        try:
            prometheus.wait(timeout=10)
        except subprocess.TimeoutExpired:
            prometheus.kill()
            prometheus.wait(timeout=10)
        log.close()
        server.stop()


def _alerts(base_url: str) -> list[dict[str, Any]]:
    try:
        response = httpx.get(f"{base_url}/api/v1/alerts", timeout=2)
    except httpx.TransportError:
        return []  # still starting
    if response.status_code != 200:
        return []
    alerts: list[dict[str, Any]] = response.json()["data"]["alerts"]
    return alerts


def test_a_real_prometheus_fires_the_drift_alert_for_the_shifted_column_only(
    prometheus_server: tuple[ServerProcess, str],
) -> None:
    server, prometheus = prometheus_server
    frame = churn_frame(300, seed=21)
    frame["age"] = frame["age"] + 3 * frame["age"].std()
    rows = records(frame)
    for start in range(0, len(rows), 100):
        response = httpx.post(
            f"{server.base_url}/v1/models/churn/predict",
            json={"instances": rows[start : start + 100]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
    metrics = httpx.get(f"{server.base_url}/metrics", timeout=10).text
    psi = dict(
        re.findall(r'serving_drift_psi\{feature="(\w+)",model="churn",version="1"\} (\S+)', metrics)
    )
    assert float(psi["age"]) > 0.25 and all(
        float(v) < 0.25 for k, v in psi.items() if k != "age"
    ), psi

    deadline = time.monotonic() + ALERT_SECONDS
    firing: list[dict[str, Any]] = []
    while time.monotonic() < deadline and not firing:
        alerts = [a for a in _alerts(prometheus) if a["labels"]["alertname"] == "ModelInputDrift"]
        firing = [a for a in alerts if a["state"] == "firing"]
        time.sleep(0.5)
    assert firing, f"no drift alert fired in {ALERT_SECONDS} s"
    time.sleep(3)  # a few more evaluations: the other columns stay silent
    drift = [a for a in _alerts(prometheus) if a["labels"]["alertname"] == "ModelInputDrift"]
    assert {(a["labels"]["feature"], a["state"]) for a in drift} == {("age", "firing")}, drift
    (age,) = drift
    assert age["labels"]["model"] == "churn" and age["labels"]["version"] == "1"
    assert age["labels"]["severity"] == "warning"
    assert '"age" has drifted' in age["annotations"]["summary"]
    assert set(psi) == {"age", "city", "plan", "visits"}
