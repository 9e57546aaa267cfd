"""The Tabular view and each model's API documentation in a real Chromium, against a server on
imported-style models: churn (a classifier over text, integer and float columns with gaps) and
spend (a regressor)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.select import Select

from tests.helpers import ServerProcess
from tests.tabular_models import TabularModels
from tests.web.conftest import Browser, hook, open_view, shown, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(chromium: tuple[str, str], tabular_models: TabularModels) -> Iterator[ServerProcess]:
    """`python -m app` on churn and spend (no Iris, no MNIST): replaces the quick registry's."""
    process = ServerProcess(tabular_models.registry, reload_interval_seconds="0")
    try:
        process.wait_ready()
        yield process
    finally:
        process.stop()


def column(browser: Browser, name: str) -> Any:
    return browser.driver.find_element(By.CSS_SELECTOR, f'[data-column="{name}"]')


def open_model(browser: Browser, name: str) -> None:
    open_view(browser, "tabular")
    # The Models view asks only for the comparisons GET /v1/datasets lists as compared: churn's
    # was never written, so no 404 for Chromium to log.
    logged = [e for e in browser.console() if e["level"] in ("SEVERE", "WARNING")]
    assert not logged, logged
    Select(hook(browser, "tabular-model")).select_by_value(name)
    wait_for(
        browser,
        lambda: hook(browser, "tabular-form").get_attribute("data-model") == name,
        f"no form for {name}",
    )


def set_number(browser: Browser, name: str, value: float) -> None:
    field = column(browser, name)
    field.clear()
    field.send_keys(str(value))


def submit(browser: Browser) -> None:
    hook(browser, "tabular-form").find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def predict(server: ServerProcess, name: str, row: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{server.base_url}/v1/models/{name}/predict", json={"instances": [row]})


def example_row(server: ServerProcess, name: str) -> dict[str, Any]:
    spec = httpx.get(f"{server.base_url}/v1/models/{name}/openapi.json").json()
    return dict(spec["components"]["schemas"]["Row"]["examples"][0])


def test_churn_form_follows_the_signature_and_answers_as_the_api(
    browser: Browser, server: ServerProcess
) -> None:
    open_model(browser, "churn")
    city = column(browser, "city")
    assert city.tag_name == "select"
    options = [option.text for option in Select(city).options]
    assert options == ["paris", "lyon", "nice", "(missing)", "Other…"]
    assert column(browser, "visits").get_attribute("step") == "1"
    assert column(browser, "age").get_attribute("step") == "any"
    # Prefilled with the stored example's first row ("" is the city's missing marker).
    example = example_row(server, "churn")
    assert Select(city).first_selected_option.text == "(missing)" and example["city"] == ""
    assert column(browser, "visits").get_attribute("value") == str(example["visits"])
    Select(city).select_by_value("lyon")
    set_number(browser, "visits", 21)
    submit(browser)
    wait_for(browser, lambda: shown(browser, "tabular-label") != "", "no label")
    expected = predict(server, "churn", {**example, "city": "lyon", "visits": 21}).json()
    assert shown(browser, "tabular-label") == expected["predictions"][0]["label"]
    bars = browser.driver.find_elements(By.CSS_SELECTOR, "#tabular-result .bar-label")
    assert sorted(bar.text for bar in bars) == ["no", "yes"]
    browser.screenshot("tabular-churn")


def test_a_value_never_seen_is_typed_and_sent(browser: Browser, server: ServerProcess) -> None:
    open_model(browser, "churn")
    Select(column(browser, "plan")).select_by_visible_text("Other…")
    other = browser.driver.find_element(By.CSS_SELECTOR, '[data-column="plan"] ~ input')
    other.send_keys("enterprise")
    submit(browser)
    wait_for(browser, lambda: shown(browser, "tabular-label") != "", "no label")
    row = {**example_row(server, "churn"), "plan": "enterprise"}
    assert (
        shown(browser, "tabular-label")
        == predict(server, "churn", row).json()["predictions"][0]["label"]
    )


def test_an_invalid_value_shows_the_server_message(browser: Browser, server: ServerProcess) -> None:
    open_model(browser, "churn")
    set_number(browser, "visits", 2.5)
    submit(browser)
    alert = wait_for(
        browser,
        lambda: browser.driver.find_elements(By.CSS_SELECTOR, '#tabular-result [role="alert"]'),
        "no error shown",
    )
    row = {**example_row(server, "churn"), "visits": 2.5}
    assert alert[0].text == predict(server, "churn", row).json()["error"]["message"]
    logged = [e for e in browser.console() if e["level"] == "SEVERE"]
    assert all("status of 422" in e["message"] for e in logged), logged


def test_a_regressor_shows_its_value(browser: Browser, server: ServerProcess) -> None:
    open_model(browser, "spend")
    assert [
        f.get_attribute("data-column")
        for f in browser.driver.find_elements(By.CSS_SELECTOR, "#tabular-fields [data-column]")
    ] == ["age", "visits", "plan"]
    submit(browser)
    wait_for(browser, lambda: shown(browser, "tabular-value") != "", "no value")
    value = predict(server, "spend", example_row(server, "spend")).json()["predictions"][0]
    assert math.isclose(float(shown(browser, "tabular-value")), value["value"], rel_tol=1e-5)
    browser.screenshot("tabular-spend")


def test_the_form_is_labelled_and_fits_a_phone(browser: Browser) -> None:
    browser.driver.set_window_size(390, 844)
    open_model(browser, "churn")
    unlabelled = browser.driver.execute_script(
        "return [...document.querySelectorAll('#tabular input, #tabular select, #tabular button')]"
        ".filter(e => e.offsetParent && !(e.labels && e.labels.length)"
        " && !e.getAttribute('aria-label') && !e.textContent.trim())"
        ".map(e => e.outerHTML)"
    )
    assert unlabelled == [], unlabelled
    overflow = browser.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0


def test_each_model_has_its_document_in_the_docs(browser: Browser, server: ServerProcess) -> None:
    browser.open("/docs")
    chooser = wait_for(
        browser, lambda: browser.driver.find_elements(By.CSS_SELECTOR, ".topbar select"), "no list"
    )[0]
    wait_for(browser, lambda: browser.driver.find_elements(By.CSS_SELECTOR, ".opblock"), "empty")
    names = [option.text for option in Select(chooser).options]
    assert names == ["Model server: every route", "churn", "spend"]
    Select(chooser).select_by_visible_text("churn")
    wait_for(
        browser,
        lambda: [
            e.text for e in browser.driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
        ]
        == ["/v1/models/churn/predict"],
        "the churn document is not shown",
    )
    # Its example, sent from the page: the server answers it.
    browser.driver.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    wait_for(browser, lambda: browser.driver.find_elements(By.CSS_SELECTOR, ".try-out__btn"), "")
    browser.driver.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    browser.driver.find_element(By.CSS_SELECTOR, ".execute").click()
    wait_for(
        browser,
        lambda: any(
            e.text == "200"
            for e in browser.driver.find_elements(
                By.CSS_SELECTOR, ".live-responses-table .response-col_status"
            )
        ),
        "the example was not answered 200",
    )
    browser.screenshot("docs-churn")
