/* «Веб-виджет» in the cabinet: the banner's preview follows the choices in the settings form
 * (kind, design, text) without saving them. Without JavaScript the «Показать в предпросмотре»
 * button does the same, and the page after saving shows what was saved. */
(function () {
  "use strict";

  var frame = document.getElementById("banner-preview");
  if (!frame) return;
  var form = frame.closest("form");
  if (!form) return;
  var base = frame.getAttribute("data-preview-base");
  var NAMES = ["kind", "design", "text_choice", "custom_text"];
  var timer = null;

  function update() {
    var data = new FormData(form);
    var query = new URLSearchParams();
    NAMES.forEach(function (name) {
      var value = data.get(name);
      if (value) query.set(name, value);
    });
    var url = base + "?" + query.toString();
    if (frame.getAttribute("src") !== url) frame.setAttribute("src", url);
  }

  function soon() {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(update, 250);
  }

  form.addEventListener("change", soon);
  form.addEventListener("input", function (event) {
    if (event.target && event.target.name === "custom_text") soon();
  });
})();
