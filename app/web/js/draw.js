// Draw a digit: a canvas for mouse, pen and touch (pointer events), with undo and clear; the
// drawing is predicted while it is drawn (at most every PREDICT_EVERY_MS) and when a stroke ends.
import { DigitResult } from "./digits.js";

const PREDICT_EVERY_MS = 300;
const INK = "#111";
const PAPER = "#fff";

export function setupDraw({ canvas, undo, clear, select, result, models }) {
  const context = canvas.getContext("2d");
  const view = new DigitResult(result, "digit-label");
  const strokes = []; // each a list of [x, y] in canvas pixels
  let current = null;
  let lastSent = 0;
  let timer = null;
  let requested = 0; // only the latest drawing is predicted (toBlob answers later)

  function paint() {
    context.fillStyle = PAPER;
    context.fillRect(0, 0, canvas.width, canvas.height);
    context.strokeStyle = INK;
    context.fillStyle = INK;
    context.lineWidth = canvas.width / 14; // MNIST's strokes: about 2 of 28 pixels
    context.lineCap = "round";
    context.lineJoin = "round";
    for (const stroke of strokes) {
      context.beginPath();
      context.moveTo(...stroke[0]);
      for (const point of stroke.slice(1)) context.lineTo(...point);
      if (stroke.length === 1) context.lineTo(stroke[0][0] + 0.1, stroke[0][1]); // a dot
      context.stroke();
    }
    undo.disabled = clear.disabled = strokes.length === 0;
  }

  function predict() {
    clearTimeout(timer);
    timer = null;
    lastSent = performance.now();
    const mine = ++requested;
    if (strokes.length === 0) {
      view.clear("Draw a digit in the box: the prediction follows your strokes.");
      return;
    }
    canvas.toBlob((blob) => mine === requested && view.show(blob, select.value, models), "image/png");
  }

  // While drawing: predict now if the last request is old enough, else once it is.
  function predictSoon() {
    const wait = PREDICT_EVERY_MS - (performance.now() - lastSent);
    if (wait <= 0) predict();
    else if (timer === null) timer = setTimeout(predict, wait);
  }

  function point(event) {
    const box = canvas.getBoundingClientRect();
    return [((event.clientX - box.left) * canvas.width) / box.width, ((event.clientY - box.top) * canvas.height) / box.height];
  }

  canvas.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    canvas.setPointerCapture(event.pointerId);
    current = [point(event)];
    strokes.push(current);
    paint();
  });
  canvas.addEventListener("pointermove", (event) => {
    if (current === null) return;
    for (const sample of event.getCoalescedEvents ? event.getCoalescedEvents() : [event]) current.push(point(sample));
    paint();
    predictSoon();
  });
  const end = () => {
    if (current === null) return;
    current = null;
    predict();
  };
  canvas.addEventListener("pointerup", end);
  canvas.addEventListener("pointercancel", end);

  undo.addEventListener("click", () => {
    strokes.pop();
    paint();
    predict();
  });
  clear.addEventListener("click", () => {
    strokes.length = 0;
    paint();
    predict();
  });
  // Keyboard: Backspace or Ctrl+Z undoes, Delete or Escape clears (the canvas has the focus).
  canvas.addEventListener("keydown", (event) => {
    if (event.key === "Backspace" || (event.key === "z" && (event.ctrlKey || event.metaKey))) undo.click();
    else if (event.key === "Delete" || event.key === "Escape") clear.click();
    else return;
    event.preventDefault();
  });
  select.addEventListener("change", () => strokes.length && predict());

  paint();
  view.clear("Draw a digit in the box: the prediction follows your strokes.");
}
