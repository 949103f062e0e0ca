// Budget ballots: the running total of the chosen projects and what is left of the budget.
// The texts come from the page (translated there); without JavaScript the server fills them in.
(function () {
  "use strict";
  var out = document.getElementById("budget-total");
  if (!out) { return; }
  var budget = parseInt(out.getAttribute("data-budget"), 10);
  var boxes = document.querySelectorAll("input[type=checkbox][data-cost]");
  var lang = document.documentElement.lang || "ru";
  function fmt(n) { return n.toLocaleString(lang); }
  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (all, key) { return values[key]; });
  }
  function update() {
    var total = 0;
    boxes.forEach(function (box) {
      if (box.checked) { total += parseInt(box.getAttribute("data-cost"), 10); }
    });
    out.textContent = total > budget
      ? fill(out.getAttribute("data-over"), { total: fmt(total), over: fmt(total - budget) })
      : fill(out.getAttribute("data-left"), { total: fmt(total), left: fmt(budget - total) });
  }
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
})();
