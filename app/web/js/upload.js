// Upload a digit: a file picker and a drop zone, for a photo, a scan or any image.
import { DigitResult } from "./digits.js";
import { el } from "./dom.js";

export function setupUpload({ input, zone, select, preview, result, models }) {
  const view = new DigitResult(result, "upload-label");
  let file = null;
  let previewUrl = null;

  function use(chosen) {
    if (!chosen) return;
    file = chosen;
    if (previewUrl) URL.revokeObjectURL(previewUrl);
    previewUrl = URL.createObjectURL(file);
    preview.replaceChildren(
      el("figure", {}, [
        el("img", { src: previewUrl, alt: `The uploaded picture, ${file.name}` }),
        el("figcaption", { text: `${file.name} (${Math.ceil(file.size / 1024)} KB)` }),
      ]),
    );
    view.show(file, select.value, models);
  }

  input.addEventListener("change", () => use(input.files[0]));
  select.addEventListener("change", () => file && view.show(file, select.value, models));
  for (const name of ["dragenter", "dragover"]) {
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    });
  }
  for (const name of ["dragleave", "drop"]) zone.addEventListener(name, () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    use(event.dataTransfer.files[0]);
  });
  view.clear("Choose a picture of one digit, or drop it here: a photo, a scan or a drawing.");
}
