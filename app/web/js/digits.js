// The result of a digit image, for Draw and Upload: the predicted digit, the top classes as
// bars, and the 28x28 digit the model was given; one model, or every MNIST model side by side.
import { predictImage, preprocessImage } from "./api.js";
import { el, percent, probabilityBars, showError } from "./dom.js";

export const ALL_MODELS = "__all__";

// The model selector's options: each MNIST model, and all of them side by side.
export function fillModelSelect(select, models, preferred) {
  const names = models.map((m) => m.name);
  select.replaceChildren(
    ...names.map((name) => el("option", { value: name, text: name })),
    el("option", { value: ALL_MODELS, text: "All MNIST models, side by side" }),
  );
  if (names.includes(preferred)) select.value = preferred;
}

// The most common label among the answers (ties: the most confident).
function vote(answers) {
  const counts = new Map();
  for (const { prediction } of answers) counts.set(prediction.label, (counts.get(prediction.label) || 0) + 1);
  return [...counts.entries()].sort((a, b) => b[1] - a[1])[0][0];
}

function confidence(prediction) {
  return prediction.probabilities[prediction.label];
}

export class DigitResult {
  // `container`: where the result goes; `testid`: the hook on the predicted digit.
  constructor(container, testid) {
    this.container = container;
    this.testid = testid;
    this.sequence = 0;
    this.seenUrl = null;
  }

  clear(message = "") {
    this.sequence += 1; // answers still on their way are stale
    this.container.replaceChildren(message ? el("p", { className: "hint", text: message }) : "");
    this.container.removeAttribute("data-state");
  }

  // Predict `image` (a Blob) with `model` or every model of `models`; only the latest call shows.
  async show(image, model, models) {
    const sequence = ++this.sequence;
    this.container.setAttribute("aria-busy", "true");
    const names = model === ALL_MODELS ? models.map((m) => m.name) : [model];
    try {
      const [answers, seen] = await Promise.all([
        Promise.all(names.map(async (name) => ({ name, ...(await predictImage(name, image)) }))),
        preprocessImage(names[0], image),
      ]);
      if (sequence !== this.sequence) return;
      this.render(answers, seen);
    } catch (error) {
      if (sequence !== this.sequence) return;
      showError(this.container, error);
      this.container.setAttribute("data-state", "error");
    } finally {
      if (sequence === this.sequence) this.container.removeAttribute("aria-busy");
    }
  }

  render(answers, seen) {
    if (this.seenUrl) URL.revokeObjectURL(this.seenUrl);
    this.seenUrl = URL.createObjectURL(seen);
    const label = vote(answers);
    const single = answers.length === 1;
    const agreeing = answers.filter((a) => a.prediction.label === label).length;
    const headline = el("div", { className: "digit-headline" }, [
      el("output", { className: "digit-label", "data-testid": this.testid, "aria-live": "polite", text: label }),
      el("p", {
        className: "digit-detail",
        text: single
          ? `${answers[0].name} version ${answers[0].version}: ${percent(confidence(answers[0].prediction))} sure`
          : `${agreeing} of ${answers.length} models say ${label}`,
      }),
    ]);
    const seenFigure = el("figure", { className: "seen" }, [
      el("img", { src: this.seenUrl, alt: "The 28x28 digit the model was given", width: 112, height: 112, "data-testid": "digit-seen" }),
      el("figcaption", { text: "What the model saw (28x28)" }),
    ]);
    const details = single
      ? probabilityBars(answers[0].prediction.probabilities, 3)
      : el("div", { className: "table-scroll" }, [
          el("table", { className: "side-by-side" }, [
            el("thead", {}, [el("tr", {}, ["model", "digit", "top classes"].map((h) => el("th", { scope: "col", text: h })))]),
            el("tbody", {}, answers.map(({ name, version, prediction }) => el("tr", {}, [
              el("th", { scope: "row", text: `${name} v${version}` }),
              el("td", { className: "digit-cell", text: prediction.label }),
              el("td", {}, [probabilityBars(prediction.probabilities, 3)]),
            ]))),
          ]),
        ]);
    this.container.replaceChildren(el("div", { className: "digit-result" }, [headline, seenFigure]), details);
    this.container.setAttribute("data-state", "done");
  }
}
