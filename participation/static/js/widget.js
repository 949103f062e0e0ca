/* The embed loader of «Решаем вместе» widgets: an organization pastes
 *
 *   <div id="participation-widget-CODE"></div>
 *   <script src="https://PLATFORM/static/js/widget.js" data-widget-code="CODE" async></script>
 *
 * on its site. This script puts the widget's iframe into that placeholder (or right before
 * itself), tells the widget which site shows it, and keeps the iframe at least as tall as the
 * platform requires: 400 px while it is 200–300 px wide, 300 px when wider; taller when the
 * content needs it. It also tells the widget where the iframe is on the page (its box from the
 * top-left corner of the page, and the window's size) on load and on resize: the
 * organization's cabinet warns when the widget is below the first screen or too small. It
 * sets no cookies and reads nothing else from the page.
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

  // Where the iframe is, sent to the widget's page only (target origin = the platform's).
  function reportPlacement() {
    if (!iframe.contentWindow) return;
    var box = iframe.getBoundingClientRect();
    var scrollX = window.pageXOffset || document.documentElement.scrollLeft || 0;
    var scrollY = window.pageYOffset || document.documentElement.scrollTop || 0;
    iframe.contentWindow.postMessage(
      {
        type: "participation-widget:placement",
        top: Math.round(box.top + scrollY),
        left: Math.round(box.left + scrollX),
        width: Math.round(box.width),
        height: Math.round(box.height),
        viewport_width: document.documentElement.clientWidth || window.innerWidth,
        viewport_height: window.innerHeight || document.documentElement.clientHeight,
      },
      base
    );
  }

  var placementTimer = null;
  function placementSoon() {
    if (placementTimer) window.clearTimeout(placementTimer);
    placementTimer = window.setTimeout(reportPlacement, 400);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== base || event.source !== iframe.contentWindow) return;
    var data = event.data;
    if (!data) return;
    if (data.type === "participation-widget:ready") {
      placementSoon();
      return;
    }
    if (data.type !== "participation-widget:height") return;
    var height = Number(data.height);
    if (!isFinite(height) || height <= 0) return;
    contentHeight = Math.round(height);
    fit();
    placementSoon();
  });
  window.addEventListener("resize", function () {
    fit();
    placementSoon();
  });
  window.addEventListener("load", placementSoon);

  holder.appendChild(iframe);
  fit();
})();
