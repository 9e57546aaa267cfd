// Models: every model of the registry with its status, versions, labels, headline metrics, the
// plots of the version that answers and each version's model card; then the datasets'
// comparisons (comparisons.js).
import { getJSON, getText } from "./api.js";
import { showComparisons } from "./comparisons.js";
import { el, fixed, grouped, showError } from "./dom.js";
import { renderMarkdown } from "./markdown.js";

const PLOT_TITLES = {
  confusion_matrix: "Confusion matrix (test set)",
  decision_regions: "Decision regions",
  learning_curve: "Training and testing error",
  training_history: "Training history",
};

// The version unpinned requests go to: production's, else the newest.
export function servingVersion(summary) {
  const production = summary.labels && summary.labels.production;
  return production ? production.version : summary.latest_version;
}

function labelText(target) {
  let text = `v${target.version}`;
  if (target.canary) text += `, canary v${target.canary.version} at ${target.canary.weight * 100}%`;
  if (target.shadow) text += `, shadow v${target.shadow.version}`;
  return text;
}

function metricsList(metrics) {
  const items = [];
  if (metrics.accuracy !== undefined) items.push(["Accuracy", fixed(metrics.accuracy)]);
  if (metrics.macro_f1 !== undefined) items.push(["Macro F1", fixed(metrics.macro_f1)]);
  if (metrics.r2 !== undefined) items.push(["R²", fixed(metrics.r2)]);
  if (metrics.mae !== undefined) items.push(["MAE", fixed(metrics.mae, 3)]);
  if (metrics.cv_accuracy) items.push(["CV accuracy", `${fixed(metrics.cv_accuracy.mean)} ± ${fixed(metrics.cv_accuracy.std)}`]);
  if (metrics.test_samples !== undefined) items.push(["Test rows", grouped(metrics.test_samples)]);
  return el("dl", { className: "metrics" }, items.flatMap(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })]));
}

function plotFigure(name, version, plot) {
  const src = `/v1/models/${encodeURIComponent(name)}/versions/${version}/plots/${plot}.png`;
  const title = PLOT_TITLES[plot] || plot.replaceAll("_", " ");
  return el("figure", { className: "plot" }, [
    el("a", { href: src, target: "_blank", rel: "noopener" }, [
      el("img", { src, alt: `${name} version ${version}: ${title}`, "data-plot": plot }),
    ]),
    el("figcaption", { text: title }),
  ]);
}

// A version's model card, rendered from its Markdown when first opened.
function cardSection(base, version) {
  const body = el("div", { className: "card-markdown" });
  const details = el("details", { className: "card", "data-testid": "version-card" }, [el("summary", { text: `Model card, version ${version}` }), body]);
  let loaded = false;
  details.addEventListener("toggle", async () => {
    if (loaded || !details.open) return;
    loaded = true;
    body.replaceChildren(el("p", { className: "hint", text: "Loading the model card…" }));
    try {
      body.replaceChildren(renderMarkdown(await getText(`${base}/card`)));
      details.dataset.state = "done";
    } catch (error) {
      showError(body, error);
      details.dataset.state = "error";
    }
  });
  return details;
}

// One version: its plots (fetched when its section is first opened) and its model card.
function versionSection(summary, version, open) {
  const labels = Object.entries(summary.labels || {})
    .filter(([, target]) => target.version === version)
    .map(([label]) => label);
  const heading = `Version ${version}${labels.length ? ` (${labels.join(", ")})` : ""}`;
  const base = `/v1/models/${encodeURIComponent(summary.name)}/versions/${version}`;
  const plots = el("div", { className: "plots" });
  const details = el("details", { className: "version", open }, [el("summary", { text: heading }), plots, cardSection(base, version)]);
  let loaded = false;
  const load = async () => {
    if (loaded || !details.open) return;
    loaded = true;
    try {
      const metadata = await getJSON(base);
      const names = Object.keys(metadata.files).filter((f) => f.endsWith(".png")).map((f) => f.slice(0, -4)).sort();
      plots.replaceChildren(...names.map((plot) => plotFigure(summary.name, version, plot)));
    } catch (error) {
      showError(plots, error);
    }
  };
  details.addEventListener("toggle", load);
  if (open) load();
  return details;
}

function modelEntry(summary) {
  const ready = summary.status === "ready";
  const header = el("header", {}, [
    el("h3", { text: summary.name }),
    el("span", { className: `status status-${summary.status}`, text: summary.status }),
  ]);
  const failedVersions = summary.failed_versions || [];
  // A failed model's reason is its latest failed version's: said once, on that version's line.
  const facts = ready
    ? el("p", { className: "facts", text: `${summary.dataset} · ${summary.algorithm} · ${summary.framework} · versions ${summary.versions.join(", ")}` })
    : failedVersions.length ? null : el("p", { className: "error", text: summary.reason });
  const labels = Object.entries(summary.labels || {});
  const children = facts ? [header, facts] : [header];
  if (labels.length) {
    children.push(el("p", { className: "labels" }, labels.map(([label, target]) => el("span", { className: "label", text: `${label} → ${labelText(target)}` }))));
  }
  for (const failed of failedVersions) {
    children.push(el("p", { className: "error", text: `Version ${failed.version} failed to load: ${failed.reason}` }));
  }
  if (ready) {
    children.push(metricsList(summary.metrics || {}));
    const serving = servingVersion(summary);
    for (const version of [...summary.versions].reverse()) {
      children.push(versionSection(summary, version, version === serving));
    }
  }
  return el("article", { className: "model", "data-testid": "model-card", "data-model": summary.name }, children);
}

function headline(metrics) {
  if (metrics.accuracy !== undefined) return fixed(metrics.accuracy);
  return metrics.r2 !== undefined ? `R² ${fixed(metrics.r2)}` : "–";
}

// At a glance: one row a model (task, status, the version that answers and its labels,
// accuracy, one-row latency from its dataset's comparison); its name scrolls to its entry.
function overview(summaries) {
  const rows = summaries.map((s) => {
    const ready = s.status === "ready";
    const serving = servingVersion(s);
    const labels = Object.entries(s.labels || {}).filter(([, target]) => target.version === serving).map(([label]) => label);
    const entry = () => document.querySelector(`article[data-model="${CSS.escape(s.name)}"]`);
    return el("tr", { "data-overview-model": s.name }, [
      el("th", { scope: "row" }, [el("button", { type: "button", className: "link", text: s.name, onclick: () => entry()?.scrollIntoView() })]),
      el("td", { text: s.dataset ? `${s.dataset} · ${s.algorithm}` : "–" }),
      el("td", {}, [el("span", { className: `status status-${s.status}`, text: s.status })]),
      el("td", { text: ready ? `v${serving}${labels.length ? ` (${labels.join(", ")})` : ""}` : "–" }),
      el("td", { text: ready ? headline(s.metrics || {}) : "–" }),
      el("td", { className: "latency", text: "–" }),
    ]);
  });
  const head = ["model", "task", "status", "answering", "accuracy / R²", "1 row µs"];
  return el("div", { id: "model-overview", className: "table-scroll overview", "data-testid": "model-overview" }, [
    el("table", {}, [
      el("thead", {}, [el("tr", {}, head.map((name) => el("th", { scope: "col", text: name })))]),
      el("tbody", {}, rows),
    ]),
  ]);
}

export async function showModels(summaries) {
  const list = document.getElementById("model-list");
  const comparisons = document.getElementById("comparisons");
  document.getElementById("model-overview")?.remove();
  comparisons.before(overview(summaries));
  list.replaceChildren(...summaries.map(modelEntry));
  await showComparisons(comparisons);
}
