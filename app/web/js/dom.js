// Building the page with the DOM only: text is always text (never parsed as HTML).

export function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === "text") node.textContent = value;
    else if (name === "className") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of [].concat(children)) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

// An API error (or any error) shown where the user is looking, as the API said it.
export function showError(area, error) {
  area.replaceChildren(el("p", { className: "error", role: "alert", text: error.message }));
}

export function clearError(area) {
  area.replaceChildren();
}

// A number with `digits` decimals, or a dash for a figure that is missing.
export function fixed(value, digits = 4) {
  return typeof value === "number" ? value.toFixed(digits) : "–";
}

// A count or rate, rounded, with thousands separators.
export function grouped(value) {
  return typeof value === "number" ? Math.round(value).toLocaleString("en") : "–";
}

export function percent(probability) {
  return `${(probability * 100).toFixed(1)}%`;
}

// Classes and their probabilities as horizontal bars, most probable first.
export function probabilityBars(probabilities, limit = 3) {
  const rows = Object.entries(probabilities)
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit);
  const list = el("ol", { className: "bars" });
  for (const [label, probability] of rows) {
    const fill = el("span", { className: "bar-fill" });
    fill.style.width = percent(probability); // CSSOM: allowed by the page's style-src 'self'
    list.append(
      el("li", { className: "bar" }, [
        el("span", { className: "bar-label", text: label }),
        el("span", { className: "bar-track", "aria-hidden": "true" }, [fill]),
        el("span", { className: "bar-value", text: percent(probability) }),
      ]),
    );
  }
  return list;
}
