// Iris: the four measurements (slider and number, with units and ranges), the species the
// chosen model predicts with its probabilities, and the flower on the model's decision-regions
// picture when the picture records its axes and the flower is inside them.
import { getJSON, postJSON } from "./api.js";
import { el, percent, probabilityBars, showError } from "./dom.js";

// The ranges the sliders offer: a little wider than the 150 flowers of the data set
// (sepal 4.3-7.9 x 2.0-4.4 cm, petal 1.0-6.9 x 0.1-2.5 cm); the numbers take any value.
const RANGES = {
  sepal_length: [4, 8, 5.1],
  sepal_width: [2, 4.5, 3.5],
  petal_length: [1, 7, 1.4],
  petal_width: [0.1, 2.6, 0.2],
};
const PREDICT_AFTER_MS = 150;

function title(name) {
  const text = name.replaceAll("_", " ");
  return text[0].toUpperCase() + text.slice(1);
}

function field(feature) {
  const [min, max, start] = RANGES[feature.name] || [0, 10, 1];
  const id = `iris-${feature.name}`;
  const unit = feature.unit ? ` (${feature.unit})` : "";
  const number = el("input", { type: "number", id, name: feature.name, min: 0, max: 100, step: 0.1, value: start, required: true, inputmode: "decimal", "aria-describedby": `${id}-range` });
  const slider = el("input", { type: "range", min, max, step: 0.1, value: start, "aria-label": `${title(feature.name)}${unit}, slider` });
  number.addEventListener("input", () => {
    if (number.value !== "") slider.value = number.value;
  });
  slider.addEventListener("input", () => {
    number.value = slider.value;
    number.dispatchEvent(new Event("input", { bubbles: true }));
  });
  return {
    input: number,
    node: el("div", { className: "iris-field" }, [
      el("label", { for: id, text: `${title(feature.name)}${unit}` }),
      el("div", { className: "iris-inputs" }, [slider, number]),
      el("small", { id: `${id}-range`, text: `usually ${min}–${max}${feature.unit ? ` ${feature.unit}` : ""}` }),
    ]),
  };
}

export function setupIris({ form, select, fieldsArea, result, regions, models }) {
  select.replaceChildren(...models.map((m) => el("option", { value: m.name, text: m.name })));
  const preferred = models.find((m) => m.name === "iris-logistic-regression");
  if (preferred) select.value = preferred.name;
  const features = models[0].input.features;
  const fields = features.map(field);
  fieldsArea.replaceChildren(...fields.map((f) => f.node));
  let sequence = 0;
  let timer = null;
  let geometry = null; // the decision-regions picture of the chosen model, when it has one

  function values() {
    return fields.map((f) => Number(f.input.value));
  }

  function placePoint() {
    const marker = regions.querySelector(".regions-point");
    const note = regions.querySelector(".regions-note");
    if (!marker || !geometry) return;
    const row = Object.fromEntries(features.map((f, i) => [f.name, values()[i]]));
    const x = row[geometry.x_feature];
    const y = row[geometry.y_feature];
    const [x0, x1] = geometry.x_range;
    const [y0, y1] = geometry.y_range;
    const inside = x >= x0 && x <= x1 && y >= y0 && y <= y1;
    marker.hidden = !inside;
    const [left, bottom, right, top] = geometry.axes_box; // fractions of the picture, from its lower left
    marker.style.left = `${(left + ((x - x0) / (x1 - x0)) * (right - left)) * 100}%`;
    marker.style.top = `${(1 - (bottom + ((y - y0) / (y1 - y0)) * (top - bottom))) * 100}%`;
    note.textContent = inside
      ? `The flower is the white ring: ${title(geometry.x_feature)} ${x} and ${title(geometry.y_feature).toLowerCase()} ${y}.`
      : `This flower is outside the picture (${title(geometry.x_feature).toLowerCase()} ${x0}–${x1}, ${title(geometry.y_feature).toLowerCase()} ${y0}–${y1}).`;
  }

  async function showRegions() {
    const model = models.find((m) => m.name === select.value);
    const production = model.labels && model.labels.production;
    const version = production ? production.version : model.latest_version;
    const base = `/v1/models/${encodeURIComponent(model.name)}/versions/${version}`;
    geometry = null;
    try {
      const metadata = await getJSON(base);
      if (!metadata.files["decision_regions.png"]) {
        regions.replaceChildren();
        return;
      }
      geometry = metadata.metrics.decision_regions || null;
      const marker = el("span", { className: "regions-point", hidden: true, "aria-hidden": "true" });
      regions.replaceChildren(
        el("figure", { className: "plot" }, [
          el("div", { className: "regions-frame" }, [el("img", { src: `${base}/plots/decision_regions.png`, alt: `${model.name}: decision regions over the sepal measurements` }), marker]),
          el("figcaption", { className: "regions-note", text: geometry ? "" : "This version's picture does not record its axes, so the flower is not placed on it." }),
        ]),
      );
      placePoint();
    } catch (error) {
      showError(regions, error);
    }
  }

  async function predict() {
    clearTimeout(timer);
    if (!form.reportValidity()) return;
    const current = ++sequence;
    const model = select.value;
    result.setAttribute("aria-busy", "true");
    try {
      const body = await postJSON(`/v1/models/${encodeURIComponent(model)}/predict`, { instances: [values()] });
      if (current !== sequence) return;
      const prediction = body.predictions[0];
      result.replaceChildren(
        el("p", { className: "iris-headline" }, [
          el("output", { className: "iris-label", "data-testid": "iris-label", "aria-live": "polite", text: prediction.label }),
          el("span", { className: "digit-detail", text: ` ${model} version ${body.version}: ${percent(prediction.probabilities[prediction.label])}` }),
        ]),
        probabilityBars(prediction.probabilities, 3),
      );
      result.setAttribute("data-state", "done");
    } catch (error) {
      if (current !== sequence) return;
      showError(result, error);
      result.setAttribute("data-state", "error");
    } finally {
      if (current === sequence) result.removeAttribute("aria-busy");
    }
    placePoint();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    predict();
  });
  form.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(predict, PREDICT_AFTER_MS);
  });
  select.addEventListener("change", () => {
    showRegions();
    predict();
  });
  showRegions();
  predict();
}
