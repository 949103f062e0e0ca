// The API documentation page: Swagger UI (vendored from npm, static/vendor/swagger-ui) reads
// the OpenAPI document named by #swagger-ui's data-spec-url. No inline script: our CSP allows
// scripts from our own origin only.
(function () {
  "use strict";
  var root = document.getElementById("swagger-ui");
  if (!root || typeof window.SwaggerUIBundle !== "function") { return; }
  root.textContent = "";
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec-url"),
    domNode: root,
    deepLinking: true,
    presets: [window.SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    // Requests from "Try it out" go to this same origin; tokens only as Bearer headers.
    withCredentials: false
  });
})();
