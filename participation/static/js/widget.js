/* The embed loader of «Решаем вместе» widgets: an organization pastes
 *
 *   <div id="participation-widget-CODE"></div>
 *   <script src="https://PLATFORM/static/js/widget.js" data-widget-code="CODE" async></script>
 *
 * on its site. This script puts the widget's iframe into that placeholder (or right before
 * itself), tells the widget which site shows it, and keeps the iframe at least as tall as the
 * platform requires: 400 px while it is 200–300 px wide, 300 px when wider; taller when the
 * content needs it. It sets no cookies and reads nothing from the page.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) return;
  var code = script.getAttribute("data-widget-code") || "";
  if (!/^[A-Za-z0-9_-]{10,40}$/.test(code)) return;
  var base = new URL(script.src).origin;

  var holder = document.getElementById("participation-widget-" + code);
  if (!holder) {
    holder = document.createElement("div");
    script.parentNode.insertBefore(holder, script);
  }
  if (holder.getAttribute("data-widget-ready")) return; // the snippet was pasted twice
  holder.setAttribute("data-widget-ready", "1");

  var src = new URL(base + "/widget/" + encodeURIComponent(code));
  src.searchParams.set("origin", window.location.origin);

  var iframe = document.createElement("iframe");
  iframe.src = src.toString();
  iframe.title = "Виджет платформы обратной связи «Решаем вместе»";
  iframe.setAttribute("referrerpolicy", "origin");
  iframe.setAttribute("loading", "eager");
  iframe.style.display = "block";
  iframe.style.width = "100%";
  iframe.style.minWidth = "200px";
  iframe.style.border = "0";

  var contentHeight = 0;
  var MAX_HEIGHT = 3000;

  function minimumHeight() {
    var width = holder.getBoundingClientRect().width || iframe.getBoundingClientRect().width;
    return width <= 300 ? 400 : 300;
  }

  function fit() {
    var height = Math.max(minimumHeight(), Math.min(contentHeight, MAX_HEIGHT));
    iframe.style.height = height + "px";
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base || event.source !== iframe.contentWindow) return;
    var data = event.data;
    if (!data || data.type !== "participation-widget:height") return;
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0) return;
    contentHeight = Math.round(height);
    fit();
  });
  window.addEventListener("resize", fit);

  holder.appendChild(iframe);
  fit();
})();
