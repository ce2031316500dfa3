// The check-in form: the unit after the value follows the key result picked (each radio carries
// its unit in data-unit). A static file, not an inline script, so a strict CSP allows it.
(function () {
  "use strict";
  document.querySelectorAll("form.checkin-form").forEach(function (form) {
    var unit = form.querySelector("[data-unit-of]");
    if (!unit) {
      return;
    }
    function show() {
      var picked = form.querySelector("input[name=key_result]:checked");
      unit.textContent = picked ? picked.getAttribute("data-unit") || "" : "";
    }
    form.addEventListener("change", function (event) {
      if (event.target.name === "key_result") {
        show();
      }
    });
    show();
  });
})();
