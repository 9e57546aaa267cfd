// One form field per column of a model's row, built from the `Row` schema of its OpenAPI
// document (/v1/models/{name}/openapi.json, typed from the signature): a number (step 1 for
// integers), a select of the categories seen with a free-text "other" value for text, a checkbox
// for true/false, and a "missing" choice where the column may be missing (null).
import { el } from "./dom.js";

const MISSING = "\u0000missing";
const OTHER = "\u0000other";

function typeOf(schema) {
  const types = [].concat(schema.type);
  return { kind: types.find((t) => t !== "null"), nullable: types.includes("null") };
}

// A text or number input, with a "missing" checkbox beside it when the column may be missing.
function inputField(id, attributes, nullable, start, parse) {
  const input = el("input", { id, ...attributes });
  const missing = nullable ? el("input", { type: "checkbox", id: `${id}-missing` }) : null;
  const sync = () => {
    if (missing) input.disabled = missing.checked;
  };
  missing?.addEventListener("change", sync);
  if (start === null && missing) missing.checked = true;
  else if (start !== null) input.value = String(start);
  sync();
  const controls = [input];
  if (missing) controls.push(el("label", { className: "missing", for: missing.id }, [missing, " missing"]));
  return { control: input, controls, value: () => (missing?.checked ? null : parse(input.value)) };
}

function numberField(id, kind, nullable, start) {
  const integer = kind === "integer";
  const attributes = { type: "number", step: integer ? 1 : "any", inputmode: integer ? "numeric" : "decimal" };
  // An empty field is sent as null: the server says when the column may not be missing.
  return inputField(id, attributes, nullable, start, (text) => (text === "" ? null : Number(text)));
}

// Text: a select of the categories seen, "(missing)" where it may be missing, and "Other…" for a
// value never seen (the server passes it on to the model); a text input when none were recorded.
function textField(id, nullable, categories, start) {
  if (!categories.length) return inputField(id, { type: "text" }, nullable, start, (text) => text);
  const other = el("input", { type: "text", id: `${id}-other`, "aria-label": "Another value", hidden: true });
  const options = categories.map((c) => el("option", { value: c, text: c === "" ? "(empty text)" : c }));
  if (nullable) options.push(el("option", { value: MISSING, text: "(missing)" }));
  options.push(el("option", { value: OTHER, text: "Other…" }));
  const select = el("select", { id }, options);
  const sync = () => {
    other.hidden = select.value !== OTHER;
  };
  select.addEventListener("change", sync);
  if (start === null && nullable) select.value = MISSING;
  else if (categories.includes(start)) select.value = start;
  else if (start !== null) {
    select.value = OTHER;
    other.value = String(start);
  }
  sync();
  return {
    control: select,
    controls: [select, other],
    value: () => (select.value === MISSING ? null : select.value === OTHER ? other.value : select.value),
  };
}

function boolField(id, start) {
  const box = el("input", { type: "checkbox", id });
  box.checked = start === true;
  return { control: box, controls: [box], value: () => box.checked };
}

// The fields of `row` (the Row schema), prefilled with its first example; `fields.row()` reads
// them back as the record the predict route takes.
export function rowFields(row) {
  const start = (row.examples && row.examples[0]) || {};
  const fields = Object.entries(row.properties).map(([name, schema], index) => {
    const id = `tabular-field-${index}`;
    const { kind, nullable } = typeOf(schema);
    // The text that stands for a gap (x-missing-value) is shown as missing too.
    const gap = start[name] === undefined || (nullable && start[name] === schema["x-missing-value"]);
    const value = gap ? null : start[name];
    let field;
    if (kind === "number" || kind === "integer") field = numberField(id, kind, nullable, value);
    else if (kind === "boolean") field = boolField(id, value);
    else field = textField(id, nullable, kind === "string" ? schema.examples || [] : [], value);
    field.control.dataset.column = name;
    field.control.setAttribute("aria-describedby", `${id}-hint`);
    const unit = schema["x-unit"] ? ` (${schema["x-unit"]})` : "";
    return {
      name,
      value: field.value,
      node: el("div", { className: "tabular-field", "data-kind": kind }, [
        el("label", { for: id, text: `${name}${unit}` }),
        el("div", { className: "tabular-inputs" }, field.controls),
        el("small", { id: `${id}-hint`, text: schema.description || "" }),
      ]),
    };
  });
  return {
    nodes: fields.map((f) => f.node),
    row: () => Object.fromEntries(fields.map((f) => [f.name, f.value()])),
  };
}
