// Budget ballots: show the running total of the chosen projects against the budget.
(function () {
  "use strict";
  var out = document.getElementById("budget-total");
  if (!out) { return; }
  var budget = parseInt(out.getAttribute("data-budget"), 10);
  var boxes = document.querySelectorAll("input[type=checkbox][data-cost]");
  function fmt(n) { return n.toLocaleString("ru-RU"); }
  function update() {
    var total = 0;
    boxes.forEach(function (box) { if (box.checked) { total += parseInt(box.getAttribute("data-cost"), 10); } });
    out.textContent = "Выбрано на " + fmt(total) + " ₽" + (total > budget ? " — больше бюджета, уберите что-нибудь." : ", остаток " + fmt(budget - total) + " ₽.");
  }
  boxes.forEach(function (box) { box.addEventListener("change", update); });
  update();
})();
