// Live type-checking for the policy editor: after a pause in typing, the
// policy text is sent to the server's check endpoint (same origin, with the
// form's CSRF token) and its problems are shown by line and column. The
// form works without this script; the server checks again on save.
(function () {
  "use strict";
  var area = document.getElementById("policy");
  var out = document.getElementById("policy-live");
  var form = document.getElementById("policy-form");
  if (!area || !out || !form) { return; }
  var timer = null;
  function check() {
    var body = new URLSearchParams();
    body.set("csrf", form.elements.csrf.value);
    body.set("policy", area.value);
    fetch(area.dataset.check, { method: "POST", body: body, credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json(); })
      .then(function (res) {
        out.textContent = "";
        if (!res.issues || res.issues.length === 0) {
          out.className = "flash";
          out.textContent = "No problems found.";
          return;
        }
        out.className = "error";
        var ul = document.createElement("ul");
        res.issues.forEach(function (m) {
          var li = document.createElement("li");
          li.textContent = m;
          ul.appendChild(li);
        });
        out.appendChild(ul);
      })
      .catch(function () { out.textContent = ""; });
  }
  area.addEventListener("input", function () {
    if (timer) { clearTimeout(timer); }
    timer = setTimeout(check, 400);
  });
})();
