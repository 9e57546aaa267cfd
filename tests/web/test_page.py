"""The page at / in a real Chromium against a real server on the quick models: drawing and
uploading digits, the Iris form, the models with their plots and cards, errors, and the docs."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.select import Select

from tests.helpers import ServerProcess, mnist_digits
from tests.web.conftest import Browser, hook, open_view, shown, wait_for

pytestmark = pytest.mark.browser
# Strokes as fractions of the canvas, from its centre (x right, y down).
STROKES: dict[str, list[list[tuple[float, float]]]] = {
    "1": [[(0.02, -0.36), (-0.02, 0.36)]],
    "7": [[(-0.24, -0.32), (0.24, -0.32), (-0.04, 0.36)]],
    "0": [
        [
            (0.2 * math.sin(2 * math.pi * k / 28), -0.32 * math.cos(2 * math.pi * k / 28))
            for k in range(29)
        ]
    ],
}


def models(server: ServerProcess) -> list[dict[str, Any]]:
    return list(httpx.get(f"{server.base_url}/v1/models").json()["models"])


def best_mnist_model(server: ServerProcess) -> str:
    """The quick MNIST model with the best test accuracy (the quick models are weak)."""
    mnist = [m for m in models(server) if m.get("dataset") == "mnist"]
    return str(max(mnist, key=lambda m: m["metrics"]["accuracy"])["name"])


def draw(browser: Browser, strokes: list[list[tuple[float, float]]]) -> None:
    """Mouse moves over the canvas, a few pixels apart, button held down along each stroke."""
    canvas = hook(browser, "digit-canvas")
    size = canvas.size
    actions = ActionChains(browser.driver, duration=5)
    for stroke in strokes:
        points = [(round(x * size["width"]), round(y * size["height"])) for x, y in stroke]
        actions.move_to_element_with_offset(canvas, *points[0]).click_and_hold()
        position = points[0]
        for target in points[1:]:
            steps = max(1, int(math.dist(position, target) // 6))
            start = position
            for step in range(1, steps + 1):
                x = start[0] + round((target[0] - start[0]) * step / steps)
                y = start[1] + round((target[1] - start[1]) * step / steps)
                actions.move_by_offset(x - position[0], y - position[1])
                position = (x, y)
        actions.release()
    actions.perform()


def natural_width(browser: Browser, selector: str) -> list[int]:
    script = (
        "return [...document.querySelectorAll(arguments[0])]"
        ".map(i => i.complete ? i.naturalWidth : -1)"
    )
    return list(browser.driver.execute_script(script, selector))


@pytest.mark.parametrize("digit", ["1", "7", "0"])
def test_drawing_a_digit_with_the_mouse_predicts_it(
    browser: Browser, server: ServerProcess, digit: str
) -> None:
    open_view(browser, "draw")
    Select(hook(browser, "digit-model")).select_by_value(best_mnist_model(server))
    draw(browser, STROKES[digit])
    wait_for(
        browser,
        lambda: shown(browser, "digit-label") == digit
        and browser.driver.find_element(By.ID, "draw-result").get_attribute("aria-busy") is None,
        f"the page did not say {digit}",
    )
    assert natural_width(browser, '[data-testid="digit-seen"]') == [28]  # the model's 28x28
    browser.screenshot(f"draw-{digit}")


def test_undo_and_clear_remove_strokes(browser: Browser, server: ServerProcess) -> None:
    open_view(browser, "draw")
    draw(browser, STROKES["1"])
    wait_for(browser, lambda: shown(browser, "digit-label") != "", "no prediction")
    browser.driver.find_element(By.ID, "draw-undo").click()
    wait_for(browser, lambda: shown(browser, "digit-label") == "", "undo left a prediction")
    assert browser.driver.find_element(By.ID, "draw-clear").get_attribute("disabled") is not None


def test_all_models_side_by_side(browser: Browser, server: ServerProcess) -> None:
    open_view(browser, "draw")
    Select(hook(browser, "digit-model")).select_by_value("__all__")
    draw(browser, STROKES["1"])
    mnist = [m["name"] for m in models(server) if m.get("dataset") == "mnist"]
    rows = lambda: browser.driver.find_elements(By.CSS_SELECTOR, ".side-by-side tbody tr")  # noqa: E731
    wait_for(browser, lambda: len(rows()) == len(mnist), "not every model answered")
    assert {row.find_element(By.TAG_NAME, "th").text.split(" v")[0] for row in rows()} == set(mnist)
    browser.screenshot("draw-side-by-side")


def test_uploading_a_digit_png(
    browser: Browser, server: ServerProcess, mnist_dir: Path, tmp_path: Path
) -> None:
    images, labels = mnist_digits(mnist_dir, 1)
    path = tmp_path / f"digit-{labels[0]}.png"
    # Dark ink on white paper at 5x, as a scan would be (MNIST's own digits are light on dark).
    Image.fromarray(255 - images[0]).resize((140, 140)).save(path)
    open_view(browser, "upload")
    Select(hook(browser, "upload-model")).select_by_value(best_mnist_model(server))
    hook(browser, "upload-file").send_keys(str(path))
    wait_for(browser, lambda: shown(browser, "upload-label") == str(labels[0]), "wrong digit")
    assert natural_width(browser, "#upload-preview img") == [140]
    browser.screenshot("upload")


def test_an_api_error_is_shown_as_the_api_says_it(
    browser: Browser, server: ServerProcess, tmp_path: Path
) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (64, 64), 255).save(blank)
    model = best_mnist_model(server)
    with blank.open("rb") as file:
        expected = httpx.post(
            f"{server.base_url}/v1/models/{model}/predict/image", files={"file": file}
        ).json()["error"]["message"]
    open_view(browser, "upload")
    Select(hook(browser, "upload-model")).select_by_value(model)
    hook(browser, "upload-file").send_keys(str(blank))
    alert = wait_for(
        browser,
        lambda: browser.driver.find_elements(By.CSS_SELECTOR, '#upload-result [role="alert"]'),
        "no error shown",
    )
    assert alert[0].text == expected
    # The browser logs the failed request itself (a 422): that is the only console error.
    logged = [e for e in browser.console() if e["level"] == "SEVERE"]
    assert all("status of 422" in e["message"] for e in logged), logged


def set_flower(browser: Browser, values: list[float]) -> None:
    for name, value in zip(
        ("sepal_length", "sepal_width", "petal_length", "petal_width"), values, strict=True
    ):
        field = browser.driver.find_element(By.ID, f"iris-{name}")
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(str(value))
    browser.driver.find_element(By.ID, "iris-petal_width").send_keys(Keys.ENTER)


def test_iris_form_answers_the_species(browser: Browser) -> None:
    open_view(browser, "iris")
    hook(browser, "iris-form")
    set_flower(browser, [6.7, 3.0, 5.2, 2.3])
    wait_for(browser, lambda: shown(browser, "iris-label") == "virginica", "not virginica")
    set_flower(browser, [5.1, 3.5, 1.4, 0.2])
    wait_for(browser, lambda: shown(browser, "iris-label") == "setosa", "not setosa")
    slider = browser.driver.find_element(By.CSS_SELECTOR, "#iris-fields input[type=range]")
    assert slider.get_attribute("value") == "5.1"  # the slider follows the number
    wait_for(
        browser,
        lambda: natural_width(browser, "#iris-regions img") not in ([], [-1], [0]),
        "no picture",
    )
    # Trained with metrics.decision_regions recorded: the flower is placed on the picture.
    note = "#iris-regions .regions-note"
    wait_for(
        browser,
        lambda: browser.driver.find_element(By.CSS_SELECTOR, note).text.startswith(
            "The flower is the white ring"
        ),
        "the flower is not placed",
    )
    marker = browser.driver.find_element(By.CSS_SELECTOR, "#iris-regions .regions-point")
    assert marker.is_displayed()
    picture = browser.driver.find_element(By.CSS_SELECTOR, "#iris-regions img").rect
    centre_x = marker.rect["x"] + marker.rect["width"] / 2
    centre_y = marker.rect["y"] + marker.rect["height"] / 2
    assert picture["x"] < centre_x < picture["x"] + picture["width"], (marker.rect, picture)
    assert picture["y"] < centre_y < picture["y"] + picture["height"], (marker.rect, picture)
    browser.screenshot("iris")


def test_every_model_is_listed_with_its_plots(browser: Browser, server: ServerProcess) -> None:
    expected = [m["name"] for m in models(server)]
    open_view(browser, "models")
    entries = browser.driver.find_elements(By.CSS_SELECTOR, '[data-testid="model-card"]')
    assert [e.get_attribute("data-model") for e in entries] == expected
    # Each model shows the plots of the version that answers: confusion matrix and learning
    # curve at least; and each dataset's comparison plot.
    wait_for(
        browser,
        lambda: len(natural_width(browser, "img[data-plot]")) >= 2 * len(expected) + 2,
        "plots missing",
    )
    wait_for(
        browser,
        lambda: min(natural_width(browser, "img[data-plot]")) > 0,
        f"a plot did not load: {natural_width(browser, 'img[data-plot]')}",
    )
    for entry in entries:
        plots = entry.find_elements(By.CSS_SELECTOR, "img[data-plot]")
        assert {"confusion_matrix", "learning_curve"} <= {
            p.get_attribute("data-plot") for p in plots
        }
    assert len(browser.driver.find_elements(By.CSS_SELECTOR, ".comparison table tbody tr")) == len(
        expected
    )
    card = entries[0].find_element(By.CSS_SELECTOR, '[data-testid="version-card"]')
    card.find_element(By.TAG_NAME, "summary").click()
    wait_for(browser, lambda: card.get_attribute("data-state") == "done", "card not rendered")
    assert card.find_element(By.TAG_NAME, "h3").text.startswith(f"Model card: {expected[0]}")
    assert card.find_elements(By.CSS_SELECTOR, "table tbody tr")
    browser.driver.execute_script("window.scrollTo(0, 0)")
    browser.screenshot("models")


def test_the_models_are_summed_up_at_a_glance(browser: Browser, server: ServerProcess) -> None:
    expected = models(server)
    open_view(browser, "models")
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "[data-testid=model-overview] tbody tr")
    assert [row.get_attribute("data-overview-model") for row in rows] == [
        m["name"] for m in expected
    ]
    first = rows[0].find_elements(By.TAG_NAME, "td")
    assert first[1].text == "ready" and first[2].text.startswith("v")
    # The one-row latency comes from the comparisons, once they have loaded.
    wait_for(
        browser,
        lambda: all(row.find_element(By.CLASS_NAME, "latency").text != "–" for row in rows),
        "latencies missing",
    )
    rows[-1].find_element(By.TAG_NAME, "button").click()
    last = browser.driver.find_element(
        By.CSS_SELECTOR, f'article[data-model="{expected[-1]["name"]}"]'
    )
    wait_for(
        browser,
        lambda: browser.driver.execute_script(
            "return arguments[0].getBoundingClientRect().top < window.innerHeight", last
        ),
        "the entry was not scrolled to",
    )


def test_controls_are_labelled_and_the_page_fits_a_phone(browser: Browser) -> None:
    for view in ("draw", "upload", "iris"):
        open_view(browser, view)
        unlabelled = browser.driver.execute_script(
            "return [...document.querySelectorAll('input, select, canvas, button')]"
            ".filter(e => e.offsetParent && !(e.labels && e.labels.length)"
            " && !e.getAttribute('aria-label') && !e.textContent.trim())"
            ".map(e => e.outerHTML)"
        )
        assert unlabelled == [], unlabelled
    browser.driver.set_window_size(390, 844)
    for view in ("models", "draw", "iris"):
        open_view(browser, view)
        overflow = browser.driver.execute_script(
            "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0, f"{view}: {overflow} px wider than the phone"
    open_view(browser, "draw")
    browser.screenshot("phone-draw")


def test_views_are_reached_with_the_keyboard(browser: Browser) -> None:
    open_view(browser, "")  # no fragment: focus starts at the top
    upload = browser.driver.find_element(By.CSS_SELECTOR, 'nav a[href="#upload"]')
    for _ in range(10):
        ActionChains(browser.driver).send_keys(Keys.TAB).perform()
        if browser.driver.switch_to.active_element == upload:
            break
    assert browser.driver.switch_to.active_element == upload, "Tab never reached Upload"
    ActionChains(browser.driver).send_keys(Keys.ENTER).perform()
    wait_for(
        browser,
        lambda: browser.driver.execute_script("return document.body.dataset.view") == "upload",
        "Enter did not open Upload",
    )


def test_docs_render_their_operations_offline(browser: Browser, server: ServerProcess) -> None:
    schema = httpx.get(f"{server.base_url}/openapi.json").json()
    operations = sum(len(methods) for methods in schema["paths"].values())
    browser.open("/docs")
    wait_for(
        browser,
        lambda: len(browser.driver.find_elements(By.CSS_SELECTOR, ".opblock")) == operations,
        f"Swagger UI did not show the {operations} operations",
    )
    browser.screenshot("docs")
    browser.open("/redoc")
    wait_for(
        browser,
        lambda: len(
            browser.driver.find_elements(By.CSS_SELECTOR, "[data-section-id^='operation/']")
        )
        == operations,
        f"ReDoc did not show the {operations} operations",
    )
    browser.screenshot("redoc")


def test_iris_and_digit_models_are_left_to_their_own_views(browser: Browser) -> None:
    open_view(browser, "tabular")
    text = browser.driver.find_element(By.ID, "tabular").text
    assert "No tabular model besides Iris is loaded" in text  # the quick models: Iris, MNIST
