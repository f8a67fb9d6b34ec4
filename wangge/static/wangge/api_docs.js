/* The API docs: Swagger UI on our OpenAPI document. Its settings live here rather than in an
   inline script (the CSP refuses those); the online validator is off, since nothing may leave
   the intranet. "Try it out" sends the session's CSRF token, as the API's session auth needs. */
(function () {
  "use strict";
  var el = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: el.dataset.openapiUrl,
    domNode: el,
    deepLinking: true,
    layout: "BaseLayout",
    presets: [window.SwaggerUIBundle.presets.apis],
    validatorUrl: null,
    requestInterceptor: function (req) {
      req.headers["X-CSRFToken"] = el.dataset.csrfToken;
      return req;
    }
  });
})();
