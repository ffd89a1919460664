// Vigie dashboard: keyboard shortcuts and small conveniences. No dependencies.
(function () {
  "use strict";

  // Filters submit as soon as a select changes (the Filter button still works without JS).
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  var form = document.getElementById("decision-form");
  if (!form) { return; }
  var reason = form.querySelector("select[name=reason_code]");
  var violations = (reason && reason.dataset.violationCodes || "").split(" ");

  // Grey out the reasons that do not fit the chosen action; the server checks again.
  function fitReasons() {
    var checked = form.querySelector("input[name=action]:checked");
    if (!checked || !reason) { return; }
    Array.prototype.forEach.call(reason.options, function (option) {
      if (!option.value) { return; }
      var isViolation = violations.indexOf(option.value) !== -1;
      option.disabled = (checked.value === "confirm" && !isViolation) ||
                        (checked.value === "dismiss" && isViolation);
    });
    if (reason.selectedOptions.length && reason.selectedOptions[0].disabled) { reason.value = ""; }
  }
  form.querySelectorAll("input[name=action]").forEach(function (radio) {
    radio.addEventListener("change", fitReasons);
  });
  fitReasons();

  // c / d / e pick confirm / dismiss / escalate, then focus the reason; ignored while typing.
  var keys = { c: "confirm", d: "dismiss", e: "escalate" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select" || event.target.isContentEditable) { return; }
    var action = keys[event.key];
    if (!action) { return; }
    var radio = form.querySelector("input[name=action][value=" + action + "]");
    if (!radio) { return; }
    event.preventDefault();
    radio.checked = true;
    fitReasons();
    if (reason) { reason.focus(); }
  });
})();
