// Live preview of a ballot's rules: as the officer edits the form, the
// rules are checked by the server (the same "Preview" the button asks for)
// and the preview or the problem is shown in place. Without JavaScript the
// Preview button does the same.
(function () {
  "use strict";
  var form = document.getElementById("ballot-form");
  if (!form || !window.fetch || !window.DOMParser) { return; }
  var timer = null, seq = 0;
  var slot = document.createElement("div");
  slot.id = "live-preview";
  slot.setAttribute("aria-live", "polite");
  form.insertBefore(slot, form.querySelector('button[value="preview"]'));
  function update() {
    var mine = ++seq;
    var body = new FormData(form);
    body.set("op", "preview");
    fetch(form.action, { method: "POST", body: new URLSearchParams(body), credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        if (mine !== seq) { return; }
        var doc = new DOMParser().parseFromString(html, "text/html");
        var found = doc.getElementById("preview") || doc.querySelector("main .error");
        var old = document.getElementById("preview");
        if (old && old.parentNode !== slot) { old.remove(); }
        slot.replaceChildren();
        if (found) { slot.appendChild(document.importNode(found, true)); }
      })
      .catch(function () { /* the Preview button still works */ });
  }
  form.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(update, 400); });
  form.addEventListener("change", function () { clearTimeout(timer); timer = setTimeout(update, 100); });
})();
