// gongkai's GraphiQL page (api/graphiql.py): the public endpoint, or the internal one with a
// field for the bearer token. Everything it loads comes from this server (no CDN).
(function () {
  "use strict";
  var root = document.getElementById("graphiql");
  // The page is served at its endpoint's own address.
  var endpoint = window.location.pathname;
  var input = document.getElementById("token");
  var STORED = "gongkai-internal-token";

  function token() {
    return input ? input.value.trim().replace(/^Bearer\s+/i, "") : "";
  }

  function fetcher(params, options) {
    var headers = { Accept: "application/graphql-response+json, application/json" };
    if (token()) {
      headers.Authorization = "Bearer " + token();
    }
    return GraphiQL.createFetcher({ url: endpoint, headers: headers })(params, options);
  }

  var view = ReactDOM.createRoot(root);
  function render() {
    view.render(
      React.createElement(GraphiQL, {
        // A new token is a new caller: remount, so the schema is fetched again with it.
        key: token(),
        fetcher: fetcher,
        defaultEditorToolsVisibility: true,
      }),
    );
  }

  if (input) {
    // The tab keeps the token until it is closed; nothing is stored beyond it.
    input.value = window.sessionStorage.getItem(STORED) || "";
    var apply = function () {
      window.sessionStorage.setItem(STORED, token());
      render();
    };
    input.addEventListener("change", apply);
    // Enter in the field applies the token; the form never leaves the page.
    document.getElementById("token-form").addEventListener("submit", function (event) {
      event.preventDefault();
      apply();
    });
  }
  render();
})();
