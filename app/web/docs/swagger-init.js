// Swagger UI over this server's OpenAPI document and each served model's own, typed from its
// signature (/v1/models/{name}/openapi.json), picked in the top bar (/docs?urls.primaryName=NAME
// opens one). No validator badge: it would call an outside service.
async function definitions() {
  const urls = [{ url: "/openapi.json", name: "Model server: every route" }];
  try {
    const response = await fetch("/v1/models", { headers: { Accept: "application/json" } });
    for (const model of (await response.json()).models) {
      if (model.status === "ready") {
        urls.push({ url: `/v1/models/${encodeURIComponent(model.name)}/openapi.json`, name: model.name });
      }
    }
  } catch {
    // the models could not be listed: the server's document alone
  }
  return urls;
}

// The top bar's Swagger logo is an SVG holding a <style> element, which the page's
// Content-Security-Policy (style-src 'self') refuses: the bar goes without it.
const withoutLogo = () => ({ components: { Logo: () => null } });

definitions().then((urls) => {
  window.ui = SwaggerUIBundle({
    urls,
    dom_id: "#swagger-ui",
    layout: "StandaloneLayout",
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null,
    oauth2RedirectUrl: window.location.origin + "/docs/oauth2-redirect",
    presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset],
    plugins: [SwaggerUIBundle.plugins.DownloadUrl, withoutLogo],
  });
});
