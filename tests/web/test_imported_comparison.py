"""The Models view shows an imported dataset's comparison as the built-in ones: churn's
classifier and spend's regressor (both of dataset churn), one table a task, and the plot."""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from selenium.webdriver.common.by import By

from tests.helpers import ServerProcess
from tests.tabular_models import TabularModels
from tests.web.conftest import Browser, open_view, wait_for
from training.__main__ import main

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(
    chromium: tuple[str, str],
    tabular_models: TabularModels,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ServerProcess]:
    """`python -m app` on churn and spend, compared (`training compare --dataset churn`)."""
    registry = tmp_path_factory.mktemp("compared-churn") / "models"
    shutil.copytree(tabular_models.registry, registry)
    arguments = ["compare", "--dataset", "churn", "--seconds", "0.1"]
    assert main([*arguments, "--registry-dir", str(registry)]) == 0
    process = ServerProcess(registry, reload_interval_seconds="0")
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def _rows(browser: Browser, task: str) -> list[list[str]]:
    selector = f'.comparison[data-dataset="churn"] table[data-task="{task}"] tbody tr'
    return [
        [cell.text for cell in row.find_elements(By.TAG_NAME, "td")]
        for row in browser.driver.find_elements(By.CSS_SELECTOR, selector)
    ]


def test_imported_comparison_has_a_table_a_task_and_its_plot(browser: Browser) -> None:
    open_view(browser, "models")
    wait_for(browser, lambda: _rows(browser, "regression"), "no comparison of churn")
    [classifier] = _rows(browser, "classification")
    [regressor] = _rows(browser, "regression")
    assert classifier[:4] == ["churn", "1", "0.9000", "0.8900"]
    assert regressor[:5] == ["spend", "1", "0.9800", "0.500", "0.700"]
    plot = browser.driver.find_element(By.CSS_SELECTOR, '.comparison img[data-plot="comparison"]')
    wait_for(
        browser,
        lambda: browser.driver.execute_script("return arguments[0].naturalWidth", plot) > 0,
        "the comparison plot did not load",
    )
    overview = {
        row.get_attribute("data-overview-model"): [
            cell.text for cell in row.find_elements(By.TAG_NAME, "td")
        ]
        for row in browser.driver.find_elements(
            By.CSS_SELECTOR, "[data-testid=model-overview] tbody tr"
        )
    }
    assert overview["spend"][3] == "R² 0.9800" and overview["churn"][3] == "0.9000"
    assert all(cells[4] != "–" for cells in overview.values())  # latencies from the comparison
    browser.screenshot("imported-comparison")
