// Ranking by keyboard and drag for the vote form. Without JavaScript the
// form works with its rank selects alone; with it, the list follows the
// ranks, and moving a candidate (drag and drop, the buttons, or Alt+Up /
// Alt+Down) renumbers the ranked candidates in their new order.
(function () {
  "use strict";
  function items(list) { return Array.prototype.slice.call(list.querySelectorAll(".rank-item")); }
  function sel(li) { return li.querySelector("select"); }
  function renumber(list) {
    var n = 1;
    items(list).forEach(function (li) { var s = sel(li); if (s.value !== "") { s.value = String(n++); } });
  }
  function resort(list) {
    var all = items(list);
    all.sort(function (a, b) {
      var x = sel(a).value === "" ? 1e9 : +sel(a).value, y = sel(b).value === "" ? 1e9 : +sel(b).value;
      return x - y;
    });
    all.forEach(function (li) { list.appendChild(li); });
  }
  function move(list, li, dir) {
    if (sel(li).value === "") { sel(li).value = String(items(list).length); }
    var sib = dir < 0 ? li.previousElementSibling : li.nextElementSibling;
    if (!sib) { return; }
    if (dir < 0) { list.insertBefore(li, sib); } else { list.insertBefore(sib, li); }
    if (sel(sib).value === "") { sel(sib).value = "0"; }
    renumber(list);
    if (sel(sib).value === "0") { sel(sib).value = ""; }
    li.querySelector("button").focus();
  }
  document.querySelectorAll(".rank-list").forEach(function (list) {
    var dragged = null;
    items(list).forEach(function (li) {
      li.draggable = true;
      ["Up", "Down"].forEach(function (d) {
        var b = document.createElement("button");
        b.type = "button"; b.className = "link";
        b.textContent = d === "Up" ? "Move up" : "Move down";
        b.setAttribute("aria-label", b.textContent + ": " + li.querySelector("label").textContent);
        b.addEventListener("click", function () { move(list, li, d === "Up" ? -1 : 1); });
        li.appendChild(b);
      });
      li.addEventListener("keydown", function (e) {
        if (e.altKey && (e.key === "ArrowUp" || e.key === "ArrowDown")) { e.preventDefault(); move(list, li, e.key === "ArrowUp" ? -1 : 1); }
      });
      li.addEventListener("dragstart", function () { dragged = li; li.classList.add("dragging"); });
      li.addEventListener("dragend", function () { li.classList.remove("dragging"); dragged = null; renumber(list); });
      li.addEventListener("dragover", function (e) {
        e.preventDefault();
        if (!dragged || dragged === li) { return; }
        if (sel(dragged).value === "") { sel(dragged).value = String(items(list).length); }
        var r = li.getBoundingClientRect();
        list.insertBefore(dragged, e.clientY < r.top + r.height / 2 ? li : li.nextSibling);
      });
      sel(li).addEventListener("change", function () { resort(list); });
    });
    resort(list);
  });
})();
