// Tabular models other than Iris (which has its own view): the chosen model's row as a form,
// built from its OpenAPI document's `Row` schema and prefilled with its stored example; Submit
// shows the label and its probabilities, or the value a regressor predicts.
import { getJSON, postJSON } from "./api.js";
import { el, percent, probabilityBars, showError } from "./dom.js";
import { rowFields } from "./fields.js";

function modelPath(name) {
  return `/v1/models/${encodeURIComponent(name)}`;
}

function formatted(value) {
  return typeof value === "number" ? String(Number(value.toPrecision(6))) : String(value);
}

function answer(name, body) {
  const prediction = body.predictions[0];
  const detail = `${name} version ${body.version}`;
  if (prediction.value !== undefined) {
    const values = [].concat(prediction.value).map(formatted).join(", ");
    return [
      el("p", { className: "tabular-headline" }, [
        el("output", { className: "tabular-label", "data-testid": "tabular-value", text: values }),
        el("span", { className: "digit-detail", text: ` predicted by ${detail}` }),
      ]),
    ];
  }
  const probabilities = prediction.probabilities || {};
  const sure = probabilities[prediction.label];
  return [
    el("p", { className: "tabular-headline" }, [
      el("output", { className: "tabular-label", "data-testid": "tabular-label", text: prediction.label }),
      el("span", { className: "digit-detail", text: ` ${detail}${sure === undefined ? "" : `: ${percent(sure)}`}` }),
    ]),
    probabilityBars(probabilities, 5),
  ];
}

export function setupTabular({ form, select, docs, fieldsArea, result, models }) {
  select.replaceChildren(...models.map((m) => el("option", { value: m.name, text: m.name })));
  let fields = null;
  let shown = 0; // forms asked for: only the latest is built
  let asked = 0; // predictions asked for: only the latest is shown, and none of another form

  async function showForm() {
    const name = select.value;
    const current = ++shown;
    asked += 1;
    fields = null;
    docs.href = `/docs?urls.primaryName=${encodeURIComponent(name)}`;
    result.replaceChildren();
    result.removeAttribute("data-state");
    try {
      const spec = await getJSON(`${modelPath(name)}/openapi.json`);
      if (current !== shown) return;
      const row = spec.components.schemas.Row;
      if (!row) {
        fieldsArea.replaceChildren(el("p", { className: "hint", text: `${name} takes images: use Draw or Upload.` }));
        return;
      }
      fields = rowFields(row);
      fieldsArea.replaceChildren(...fields.nodes);
      form.dataset.model = name;
    } catch (error) {
      if (current === shown) showError(fieldsArea, error);
    }
  }

  async function predict() {
    if (!fields) return;
    const name = select.value;
    const current = ++asked;
    result.setAttribute("aria-busy", "true");
    try {
      const body = await postJSON(`${modelPath(name)}/predict`, { instances: [fields.row()] });
      if (current !== asked) return;
      result.replaceChildren(...answer(name, body));
      result.setAttribute("data-state", "done");
    } catch (error) {
      if (current !== asked) return;
      showError(result, error);
      result.setAttribute("data-state", "error");
    } finally {
      if (current === asked) result.removeAttribute("aria-busy");
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    predict();
  });
  select.addEventListener("change", showForm);
  return showForm();
}
