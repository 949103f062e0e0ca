/* Widget pages (inside another site's iframe) and the widget's login popup.
 *
 * Popup: hands the login ticket to the widget that opened it with postMessage, target origin
 * = this platform's origin (the widget's iframe is on it), then closes.
 * Widget: opens the login popup (or lets the link open a new tab when popups are blocked),
 * accepts a ticket only from this platform's origin and for the challenge of this very page,
 * and posts it back with the page's verifier. It also tells the embedding page (widget.js)
 * how tall the content is, so that the iframe fits it, and passes on to the platform where
 * widget.js says the iframe is on the page.
 */
(function () {
  "use strict";

  var ORIGIN = window.location.origin;
  var MESSAGE = "participation-widget:login";
  var HEIGHT = "participation-widget:height";

  // --- the popup's last page ---
  var result = document.querySelector("[data-widget-login-result]");
  if (result) {
    var sent = false;
    try {
      if (window.opener && !window.opener.closed) {
        window.opener.postMessage(
          {
            type: MESSAGE,
            ticket: result.getAttribute("data-ticket"),
            challenge: result.getAttribute("data-challenge"),
          },
          ORIGIN
        );
        sent = true;
      }
    } catch (e) {
      sent = false;
    }
    var shown = result.querySelector(sent ? "[data-when-sent]" : "[data-when-lost]");
    if (shown) shown.hidden = false;
    if (sent) {
      window.setTimeout(function () {
        window.close();
      }, 400);
    }
    return;
  }

  // --- the widget: login ---
  var start = document.querySelector("[data-widget-login]");
  var exchange = document.getElementById("widget-session-form");
  var status = document.querySelector("[data-widget-login-status]");

  function say(text) {
    if (status && text) status.textContent = text;
  }

  if (start && exchange) {
    start.addEventListener("click", function (event) {
      var width = 620;
      var height = 760;
      var left = Math.max(0, (window.screen.width - width) / 2);
      var top = Math.max(0, (window.screen.height - height) / 2);
      var popup = null;
      try {
        popup = window.open(
          start.href,
          "participation-widget-login",
          "popup=yes,width=" + width + ",height=" + height + ",left=" + left + ",top=" + top
        );
      } catch (e) {
        popup = null;
      }
      if (popup) {
        event.preventDefault();
        try {
          popup.focus();
        } catch (e) {
          /* focus is a courtesy */
        }
        say(status && status.getAttribute("data-text-popup"));
      } else {
        // Popups are blocked: the link itself opens the login in a new tab (rel="opener").
        say(status && status.getAttribute("data-text-tab"));
      }
    });

    window.addEventListener("message", function (event) {
      if (event.origin !== ORIGIN) return;
      var data = event.data;
      if (!data || data.type !== MESSAGE || typeof data.ticket !== "string") return;
      if (data.challenge !== exchange.getAttribute("data-challenge")) return;
      exchange.elements.ticket.value = data.ticket;
      say(status && status.getAttribute("data-text-entering"));
      exchange.submit();
    });
  }

  // --- the widget: fit the iframe to the content ---
  var frame = document.querySelector("[data-widget-frame]") || document.querySelector(".widget");
  if (frame && window.parent !== window) {
    var last = 0;
    var report = function () {
      var height = Math.ceil(frame.getBoundingClientRect().height) + 16;
      if (height === last) return;
      last = height;
      // A number only, nothing private: any embedding page may read it.
      window.parent.postMessage({ type: HEIGHT, height: height }, "*");
    };
    if (window.ResizeObserver) {
      new ResizeObserver(report).observe(frame);
    }
    window.addEventListener("load", report);
    report();
  }

  // --- the widget: where it sits on the site's page ---
  // widget.js (on the site's page) measures the iframe and posts the figures here; the browser
  // tells which origin sent them (event.origin), which the page cannot forge. They go to the
  // platform with this page's token; the platform keeps them for the declared site only.
  var placementUrl = frame && frame.getAttribute("data-placement-url");
  if (placementUrl && window.parent !== window && window.fetch && window.FormData) {
    var FIELDS = ["top", "left", "width", "height", "viewport_width", "viewport_height"];
    var lastPlacement = "";
    window.addEventListener("message", function (event) {
      if (event.source !== window.parent || event.origin === "null") return;
      var data = event.data;
      if (!data || data.type !== "participation-widget:placement") return;
      var body = new FormData();
      body.append("csrf_token", frame.getAttribute("data-placement-token") || "");
      body.append("site", event.origin);
      for (var i = 0; i < FIELDS.length; i++) {
        var value = Number(data[FIELDS[i]]);
        if (!isFinite(value)) return;
        body.append(FIELDS[i], String(Math.round(value)));
      }
      var key = FIELDS.map(function (name) {
        return body.get(name);
      }).join(",");
      if (key === lastPlacement) return;
      lastPlacement = key;
      window
        .fetch(placementUrl, { method: "POST", body: body, credentials: "omit" })
        .catch(function () {
          lastPlacement = ""; // try again with the next report
        });
    });
    // The embedding page may have measured before this page listened: ask again.
    window.parent.postMessage({ type: "participation-widget:ready" }, "*");
  }

  // --- the widget: move focus to a page's error summary or result ---
  var focusTarget = document.querySelector(".error-summary");
  if (focusTarget) focusTarget.focus();
})();
