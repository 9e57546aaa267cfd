// The datasets' comparisons (python -m training compare), for the datasets the server lists as
// compared: a table a task (classifiers by accuracy, regressors by R²) and the plot; each compared
// model's one-row latency goes into the Models overview.
import { getJSON } from "./api.js";
import { el, fixed, grouped, showError } from "./dom.js";

const COST_COLUMNS = [
  ["artifact MB", (r) => fixed(r.artifact_bytes / 1e6, 2)],
  ["memory MB", (r) => (typeof r.memory_bytes === "number" ? fixed(r.memory_bytes / 1e6, 1) : "–")],
  ["1 row median µs", (r) => grouped(r.one_row_median_us)],
  ["1 row p99 µs", (r) => grouped(r.one_row_p99_us)],
  ["256-row batch rows/s", (r) => grouped(r.batch_rows_per_second)],
  ["Pareto", (r) => (r.pareto ? "yes" : "")],
];

// Each task's table: classifiers by accuracy, regressors by R² (both recorded at training or import).
const TASKS = {
  classification: {
    title: "classifiers",
    metric: "accuracy",
    columns: [
      ["model", (r) => r.name],
      ["version", (r) => r.version],
      ["accuracy", (r) => fixed(r.accuracy)],
      ["macro F1", (r) => fixed(r.macro_f1)],
      ["train / test error", (r) => (r.train_error === null || r.train_error === undefined ? "–" : `${fixed(r.train_error, 3)} / ${fixed(r.test_error, 3)}`)],
      ...COST_COLUMNS,
    ],
  },
  regression: {
    title: "regressors",
    metric: "r2",
    columns: [
      ["model", (r) => r.name],
      ["version", (r) => r.version],
      ["R²", (r) => fixed(r.r2)],
      ["MAE", (r) => fixed(r.mae, 3)],
      ["RMSE", (r) => fixed(r.rmse, 3)],
      ...COST_COLUMNS,
    ],
  },
};

// The one-row median latency of each compared model, into the overview's rows.
function showLatencies(comparison) {
  for (const row of comparison.rows) {
    const cell = document.querySelector(`tr[data-overview-model="${CSS.escape(row.name)}"] .latency`);
    if (cell) cell.textContent = grouped(row.one_row_median_us);
  }
}

async function comparisonSection(dataset) {
  let comparison;
  try {
    comparison = await getJSON(`/v1/datasets/${encodeURIComponent(dataset)}/comparison`);
  } catch (error) {
    if (error.status === 404) return null; // not compared yet: nothing to show
    return el("section", { className: "comparison" }, [el("h3", { text: `${dataset}: comparison` }), el("p", { className: "error", role: "alert", text: error.message })]);
  }
  showLatencies(comparison);
  const caption = `Measured ${comparison.created_at} on ${comparison.measured_with.machine}, one thread, ${comparison.measured_with.input}`;
  const tasks = Object.keys(TASKS).filter((task) => comparison.rows.some((row) => (row.task || "classification") === task));
  const tables = tasks.map((task) => {
    const { title, metric, columns } = TASKS[task];
    const rows = comparison.rows.filter((row) => (row.task || "classification") === task);
    rows.sort((a, b) => (typeof b[metric] === "number" ? b[metric] : -Infinity) - (typeof a[metric] === "number" ? a[metric] : -Infinity));
    const table = el("table", { "data-task": task }, [
      el("caption", { text: tasks.length > 1 ? `${title[0].toUpperCase()}${title.slice(1)}. ${caption}` : caption }),
      el("thead", {}, [el("tr", {}, columns.map(([name]) => el("th", { scope: "col", text: name })))]),
      el("tbody", {}, rows.map((row) => el("tr", {}, columns.map(([, value]) => el("td", { text: String(value(row)) }))))),
    ]);
    return el("div", { className: "table-scroll" }, [table]);
  });
  const measured = tasks.map((task) => (task === "regression" ? "R²" : "accuracy")).join(" and ");
  const src = `/v1/datasets/${encodeURIComponent(dataset)}/comparison.png`;
  return el("section", { className: "comparison", "data-dataset": dataset }, [
    el("h3", { text: `${dataset}: the models compared` }),
    ...tables,
    el("figure", { className: "plot" }, [
      el("img", { src, alt: `${dataset}: ${measured} against one-row serving cost, Pareto front in red`, "data-plot": "comparison" }),
      el("figcaption", { text: `${measured[0].toUpperCase()}${measured.slice(1)} against one-row serving cost` }),
    ]),
  ]);
}

// The datasets the server lists as compared: only their comparisons are asked for.
async function comparedDatasets(comparisons) {
  try {
    const { datasets } = await getJSON("/v1/datasets");
    return datasets.filter((d) => d.compared).map((d) => d.name);
  } catch (error) {
    showError(comparisons, error);
    return [];
  }
}

// Every compared dataset's section into `container` (left as it is when none is compared).
export async function showComparisons(container) {
  const datasets = await comparedDatasets(container);
  const sections = await Promise.all(datasets.map(comparisonSection));
  if (datasets.length) container.replaceChildren(...sections.filter(Boolean));
}
