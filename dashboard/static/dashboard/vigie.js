// Vigie dashboard: keyboard shortcuts, decisions without a page reload, claim renewal.
// Hand-written, no dependencies. Every feature also works without JavaScript
// (plain links and form posts); this file only makes them faster.
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function csrfToken() {
    var input = $("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  // POST a FormData (or nothing) and read the JSON answer; the server answers JSON when asked.
  function postJSON(url, data) {
    data = data || new FormData();
    if (!data.has("csrfmiddlewaretoken")) { data.append("csrfmiddlewaretoken", csrfToken()); }
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() }
    }).then(function (response) {
      return response.json().then(
        function (body) { body.httpStatus = response.status; return body; },
        function () { return { ok: false, httpStatus: response.status, error: "The server answered " + response.status + "." }; }
      );
    });
  }

  // Messages go in a live region; textContent only, never HTML.
  function say(text, kind) {
    var box = $("#live-message");
    if (!box) { return; }
    box.textContent = "";
    var line = document.createElement("p");
    line.className = "message message-" + (kind || "info");
    line.textContent = text;
    box.appendChild(line);
    return line;
  }

  function errorText(body) {
    if (body.error) { return body.error; }
    var parts = [];
    Object.keys(body.errors || {}).forEach(function (field) {
      (body.errors[field] || []).forEach(function (m) { parts.push(m); });
    });
    return parts.join(" ") || "Nothing was recorded.";
  }

  function typing(target) {
    var tag = (target.tagName || "").toLowerCase();
    if (target.isContentEditable || tag === "textarea" || tag === "select") { return true; }
    return tag === "input" && !/^(radio|checkbox|button|submit)$/i.test(target.type || "");
  }

  // --- everywhere ----------------------------------------------------------------

  $all("select[data-autosubmit], input[type=checkbox][data-autosubmit]").forEach(function (el) {
    el.addEventListener("change", function () { el.form.submit(); });
  });

  var help = $("#help-overlay");
  var helpReturn = null;
  function helpToggle(show) {
    if (!help) { return; }
    if (show) { helpReturn = document.activeElement; help.hidden = false; $("[data-help-close]", help).focus(); }
    else {
      help.hidden = true;
      if (helpReturn && helpReturn.focus) { helpReturn.focus(); }
      // The body cannot take focus back, and Chrome moves focus off a hidden element only at its
      // next rendering update: until then Enter would land on the hidden close button, not decide.
      if (help.contains(document.activeElement)) { document.activeElement.blur(); }
    }
  }
  $all("[data-help-open]").forEach(function (b) { b.addEventListener("click", function () { helpToggle(true); }); });
  $all("[data-help-close]").forEach(function (b) { b.addEventListener("click", function () { helpToggle(false); }); });

  function reveal() {
    var boxes = $all("input[data-reveal]");
    if (!boxes.length) { return false; }
    var on = !boxes[0].checked;
    boxes.forEach(function (b) { b.checked = on; });
    return true;
  }

  // The header's "working 1 h 05" follows the clock.
  var workTime = $("#work-time");
  if (workTime && workTime.dataset.since) {
    var since = Date.parse(workTime.dataset.since);
    var tick = function () {
      var minutes = Math.max(0, Math.floor((Date.now() - since) / 60000));
      var text = minutes >= 60 ? Math.floor(minutes / 60) + " h " + String(minutes % 60).padStart(2, "0") : minutes + " min";
      workTime.textContent = "working " + text + (minutes >= 120 ? " · time for a break?" : "");
      workTime.classList.toggle("work-time-long", minutes >= 120);
    };
    if (!isNaN(since)) { setInterval(tick, 30000); }
  }

  // --- the queue -------------------------------------------------------------------

  var rows = $all(".queue-row");
  var selected = -1;
  function select(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (rows[selected]) { rows[selected].classList.remove("selected"); }
    selected = index;
    rows[selected].classList.add("selected");
    var link = $(".flag-link", rows[selected]);
    if (link) { link.focus({ preventScroll: true }); }
    rows[selected].scrollIntoView({ block: "nearest" });
  }

  // --- the flag page -----------------------------------------------------------------

  var page = $("#flag-page");
  var form = $("#decision-form");
  var decided = false;
  var lastUndoUrl = null;
  var reason = form ? $("select[name=reason_code]", form) : null;
  var violations = (reason && reason.dataset.violationCodes || "").split(" ");
  var defaultReason = reason ? reason.value : "";

  function chosenAction() {
    var checked = form && $("input[name=action]:checked", form);
    return checked ? checked.value : "";
  }

  // Grey out the reasons that do not fit the chosen action; the server checks again.
  function fitReasons() {
    var action = chosenAction();
    if (!action || !reason) { return; }
    Array.prototype.forEach.call(reason.options, function (option) {
      if (!option.value) { return; }
      var isViolation = violations.indexOf(option.value) !== -1;
      option.disabled = (action === "confirm" && !isViolation) || (action === "dismiss" && isViolation);
    });
    if (!reason.value || reason.selectedOptions[0].disabled) {
      var fallback = fittingReasons().filter(function (o) { return o.value === defaultReason; })[0] || fittingReasons()[0];
      reason.value = fallback ? fallback.value : "";
    }
  }
  function fittingReasons() {
    return reason ? Array.prototype.filter.call(reason.options, function (o) { return o.value && !o.disabled; }) : [];
  }

  if (form) {
    $all("input[name=action]", form).forEach(function (radio) { radio.addEventListener("change", fitReasons); });
    fitReasons();
    form.addEventListener("submit", function (event) {
      // The cluster button has its own confirm step.
      if (event.submitter && event.submitter.id === "cluster-button") {
        event.preventDefault();
        clusterPreview();
        return;
      }
      event.preventDefault();
      decide();
    });
    $("#cluster-confirm-apply") && $("#cluster-confirm-apply").addEventListener("click", clusterApply);
    $("#cluster-confirm-cancel") && $("#cluster-confirm-cancel").addEventListener("click", clusterCancel);
  }

  function formBusy(busy) {
    $all("button, input, select, textarea", form).forEach(function (el) { el.disabled = busy; });
  }

  function markDecided(body) {
    decided = true;
    var status = $("#flag-status");
    if (status && body.status) {
      status.textContent = body.status;
      status.className = "status status-" + body.status;
    }
    if (body.next_url && page) { page.dataset.nextUrl = body.next_url; }
    form.hidden = true;
    $all(".claim-notice").forEach(function (el) { el.hidden = true; });
    var done = document.createElement("p");
    done.id = "decided-note";
    done.textContent = "Decided. Press j for the next flag.";
    form.parentNode.insertBefore(done, form);
  }

  function decide() {
    if (decided || !chosenAction()) { return; }
    var data = new FormData(form);
    formBusy(true);
    // getAttribute: the form's "action" property is shadowed by its input named "action".
    postJSON(form.getAttribute("action"), data).then(function (body) {
      formBusy(false);
      fitReasons();
      if (!body.ok) { say(errorText(body), "warning"); return; }
      markDecided(body);
      say(body.message, "success");
    }, function () {
      formBusy(false);
      HTMLFormElement.prototype.submit.call(form);  // the network failed: fall back to the plain form post
    });
  }

  var panel = $("#cluster-confirm");
  function clusterPreview() {
    if (decided || !form || !form.dataset.clusterUrl || !panel) { return; }
    if (!chosenAction() || !reason || !reason.value) { say("Choose an action and a reason first (c, d or e).", "warning"); return; }
    postJSON(form.dataset.clusterUrl, new FormData(form)).then(function (body) {
      if (!body.ok) { say(errorText(body), "warning"); return; }
      $("#cluster-confirm-text").textContent =
        "Apply " + chosenAction() + " (" + reason.value + ") to " + body.count + " flag" + (body.count === 1 ? "" : "s") +
        " of this cluster? Enter applies, Esc cancels; you can undo it (u).";
      panel.dataset.count = body.count;
      panel.hidden = false;
      $("#cluster-confirm-apply").focus();
    });
  }
  function clusterCancel() { if (panel) { panel.hidden = true; } }
  function clusterApply() {
    var data = new FormData(form);
    data.set("confirm", "1");
    panel.hidden = true;
    postJSON(form.dataset.clusterUrl, data).then(function (body) {
      if (!body.ok) { say(errorText(body), "warning"); return; }
      markDecided(body);
      lastUndoUrl = body.undo_url;
      var line = say(body.message + " Press u to undo.", "success");
      var undo = document.createElement("button");
      undo.type = "button";
      undo.className = "button-link";
      undo.id = "undo-button";
      undo.textContent = "Undo";
      undo.addEventListener("click", undoLast);
      line.appendChild(document.createTextNode(" "));
      line.appendChild(undo);
    });
  }
  function undoLast() {
    var url = lastUndoUrl;
    if (!url) {
      var undoForm = $("#undo-form");
      if (undoForm) { HTMLFormElement.prototype.submit.call(undoForm); }
      return;
    }
    lastUndoUrl = null;
    postJSON(url).then(function (body) {
      if (!body.ok) { say(errorText(body), "warning"); return; }
      say(body.message + " Reloading…", "success");
      window.location.reload();
    });
  }

  // Keep the claim while the page is open; give it back when leaving without deciding.
  if (page && page.dataset.claimUrl) {
    var seconds = parseInt(page.dataset.claimSeconds, 10) || 300;
    setInterval(function () {
      if (decided || document.hidden) { return; }
      postJSON(page.dataset.claimUrl).then(function (body) {
        if (!body.ok) { say(errorText(body) + " Your claim was lost.", "warning"); }
      });
    }, Math.max(seconds * 400, 10000));
    window.addEventListener("pagehide", function () {
      if (decided || !navigator.sendBeacon) { return; }
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrfToken());
      // Only this page's own short claim: never an assignment, nor (for a lead) someone else's claim.
      data.append("leaving", "1");
      navigator.sendBeacon(page.dataset.releaseUrl, data);
    });
  }

  function go(url) { if (url) { window.location.assign(url); } }

  // --- the shortcuts ---------------------------------------------------------------------

  var actionKeys = { c: "confirm", d: "dismiss", e: "escalate" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) {
      // Ctrl+Enter records the decision even from the note.
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && form && form.contains(event.target)) {
        event.preventDefault();
        decide();
      }
      return;
    }
    var key = event.key;
    if (help && !help.hidden) {
      if (key === "Escape" || key === "?") { event.preventDefault(); helpToggle(false); }
      return;
    }
    if (key === "Escape") {
      if (panel && !panel.hidden) { event.preventDefault(); clusterCancel(); }
      return;
    }
    if (typing(event.target)) { return; }
    if (key === "?") { event.preventDefault(); helpToggle(true); return; }
    if (key === "r") { if (reveal()) { event.preventDefault(); } return; }

    if (rows.length) {
      if (key === "j") { event.preventDefault(); select(selected + 1); return; }
      if (key === "k") { event.preventDefault(); select(selected - 1); return; }
      if ((key === "o" || key === "Enter") && selected >= 0) {
        event.preventDefault();
        go($(".flag-link", rows[selected]).href);
      }
      return;
    }
    if (!page) { return; }
    if (key === "j") { event.preventDefault(); go(page.dataset.nextUrl); return; }
    if (key === "k") { event.preventDefault(); go(page.dataset.previousUrl); return; }
    if (key === "q") { event.preventDefault(); go(page.dataset.queueUrl); return; }
    if (key === "u") { event.preventDefault(); undoLast(); return; }
    if (!form || decided) { return; }
    if (panel && !panel.hidden) { return; }  // the Apply button has focus; Enter clicks it
    if (actionKeys[key]) {
      var radio = $("input[name=action][value=" + actionKeys[key] + "]", form);
      if (!radio) { return; }
      event.preventDefault();
      radio.checked = true;
      fitReasons();
      return;
    }
    if (/^[1-9]$/.test(key) && chosenAction()) {
      var option = fittingReasons()[parseInt(key, 10) - 1];
      if (option) { event.preventDefault(); reason.value = option.value; }
      return;
    }
    if (key === "a") { event.preventDefault(); clusterPreview(); return; }
    if (key === "Enter") {
      var tag = (event.target.tagName || "").toLowerCase();
      if (tag === "a" || tag === "button" || tag === "summary") { return; }
      event.preventDefault();
      decide();
    }
  });
})();
