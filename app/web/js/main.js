// The page: one view at a time (Models, Draw, Upload, Iris, Tabular), chosen by the address's #fragment
// so that each view can be linked to and the browser's back button works.
import { getJSON } from "./api.js";
import { fillModelSelect } from "./digits.js";
import { el, showError } from "./dom.js";
import { setupDraw } from "./draw.js";
import { setupIris } from "./iris.js";
import { showModels } from "./models.js";
import { setupTabular } from "./tabular.js";
import { setupUpload } from "./upload.js";

const VIEWS = ["models", "draw", "upload", "iris", "tabular"];
const $ = (id) => document.getElementById(id);

function showView() {
  const wanted = location.hash.slice(1);
  const view = VIEWS.includes(wanted) ? wanted : "models";
  for (const name of VIEWS) {
    $(name).hidden = name !== view;
    const link = document.querySelector(`nav a[href="#${name}"]`);
    if (name === view) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  }
  document.body.dataset.view = view;
}

function unavailable(section, message) {
  section.querySelector(".view-body").replaceChildren(el("p", { className: "hint", text: message }));
}

async function start() {
  window.addEventListener("hashchange", showView);
  showView();
  let summaries;
  try {
    summaries = (await getJSON("/v1/models")).models;
  } catch (error) {
    showError($("models-status"), error);
    return;
  }
  $("models-status").textContent = `${summaries.length} models, ${summaries.filter((s) => s.status === "ready").length} ready.`;
  const ready = summaries.filter((s) => s.status === "ready");
  const mnist = ready.filter((s) => s.input && s.input.kind === "image");
  const iris = ready.filter((s) => s.dataset === "iris");
  // Every other model that takes rows: its form is built from its signature.
  const tabular = ready.filter((s) => !mnist.includes(s) && !iris.includes(s));
  if (mnist.length) {
    fillModelSelect($("digit-model"), mnist, "mnist-cnn");
    fillModelSelect($("upload-model"), mnist, "mnist-cnn");
    setupDraw({ canvas: $("digit-canvas"), undo: $("draw-undo"), clear: $("draw-clear"), select: $("digit-model"), result: $("draw-result"), models: mnist });
    setupUpload({ input: $("upload-file"), zone: $("upload-zone"), select: $("upload-model"), preview: $("upload-preview"), result: $("upload-result"), models: mnist });
  } else {
    unavailable($("draw"), "No MNIST model is loaded: train one with python -m training --dataset mnist.");
    unavailable($("upload"), "No MNIST model is loaded: train one with python -m training --dataset mnist.");
  }
  if (iris.length) {
    setupIris({ form: $("iris-form"), select: $("iris-model"), fieldsArea: $("iris-fields"), result: $("iris-result"), regions: $("iris-regions"), models: iris });
  } else {
    unavailable($("iris"), "No Iris model is loaded: train one with python -m training --dataset iris.");
  }
  let tabularForm = null; // the first model's form, built from its OpenAPI document
  if (tabular.length) {
    tabularForm = setupTabular({ form: $("tabular-form"), select: $("tabular-model"), docs: $("tabular-docs"), fieldsArea: $("tabular-fields"), result: $("tabular-result"), models: tabular });
  } else {
    unavailable($("tabular"), "No tabular model besides Iris is loaded: import one with python -m training import (see Your own models in the documentation).");
  }
  await Promise.all([showModels(summaries), tabularForm]);
  document.body.dataset.ready = "true";
}

start();
