// Live turnout for officers: while a ballot is open, the participation
// (turnout, quorum, who has voted) is read again every 15 seconds and
// replaced in place. Without JavaScript, reloading the page does the same.
(function () {
  "use strict";
  var state = document.getElementById("state");
  if (!state || state.textContent.trim() !== "open" || !window.fetch || !window.DOMParser) { return; }
  function refresh() {
    fetch(location.href, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ["turnout", "participants"].forEach(function (id) {
          var fresh = doc.getElementById(id), old = document.getElementById(id);
          if (fresh && old) { old.replaceWith(document.importNode(fresh, true)); }
        });
      })
      .catch(function () { /* try again at the next tick */ });
  }
  setInterval(refresh, 15000);
})();
