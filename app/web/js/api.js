// Calls to this server's API. A response that is not 2xx becomes an ApiError carrying the
// API's own message ({"error": {"code", "message"}}, or V2's {"error": "..."}).

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
  }
}

async function failure(response) {
  let message = `${response.status} ${response.statusText}`.trim();
  let code = "";
  try {
    const body = await response.json();
    const error = body && body.error;
    if (typeof error === "string") {
      message = error;
    } else if (error && typeof error.message === "string") {
      message = error.message;
      code = error.code || "";
    }
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message, response.status, code);
}

async function send(path, options = {}) {
  let response;
  try {
    response = await fetch(path, options);
  } catch (error) {
    throw new ApiError(`The server could not be reached (${error.message}).`, 0, "network");
  }
  if (!response.ok) {
    throw await failure(response);
  }
  return response;
}

export async function getJSON(path) {
  return (await send(path, { headers: { Accept: "application/json" } })).json();
}

export async function getText(path) {
  return (await send(path)).text();
}

export async function postJSON(path, body) {
  const response = await send(path, {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify(body),
  });
  return response.json();
}

function imageForm(image) {
  const form = new FormData();
  form.append("file", image, image.name || "digit.png");
  return form;
}

// One image (a Blob or File) to a model: the version that answered and its prediction, with
// every class's probability.
export async function predictImage(model, image) {
  const path = `/v1/models/${encodeURIComponent(model)}/predict/image`;
  const response = await send(path, { method: "POST", body: imageForm(image) });
  const body = await response.json();
  return { version: body.version, prediction: body.predictions[0] };
}

// The 28x28 digit the model is given for this image, as a PNG Blob.
export async function preprocessImage(model, image) {
  const path = `/v1/models/${encodeURIComponent(model)}/preprocess/image`;
  const response = await send(path, { method: "POST", body: imageForm(image) });
  return response.blob();
}
