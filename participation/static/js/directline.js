// Direct line, live page: poll the small JSON endpoint and redraw the question on air and the
// answered list without reloading. Without JavaScript the page is plain, with an "Обновить" link.
(function () {
  "use strict";
  var root = document.getElementById("directline-live");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-live-url");
  var interval = parseInt(root.getAttribute("data-interval"), 10) || 5000;
  var current = document.getElementById("live-current");
  var answered = document.getElementById("live-answered");
  var phase = document.getElementById("live-phase");
  var auto = document.getElementById("live-auto");
  var lastBody = null;
  var timer = null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function isWebLink(href) {
    return typeof href === "string" && /^https?:\/\//i.test(href);
  }

  function meta(q, container) {
    var parts = [container.getAttribute("data-label-question") + " " + q.number, q.category, q.territory];
    if (q.answered_at && container.getAttribute("data-label-at")) {
      parts.push(container.getAttribute("data-label-at") + " " + q.answered_at);
    }
    return el("p", "feed-meta", parts.join(" · "));
  }

  function drawCurrent(q) {
    current.textContent = "";
    if (!q) {
      current.appendChild(el("p", null, current.getAttribute("data-empty")));
      return;
    }
    var card = el("article", "card live-question");
    card.appendChild(meta(q, current));
    card.appendChild(el("p", "appeal-text", q.text));
    current.appendChild(card);
  }

  function drawAnswered(list) {
    answered.textContent = "";
    if (!list.length) {
      answered.appendChild(el("p", null, answered.getAttribute("data-empty")));
      return;
    }
    var ol = el("ol", "appeal-list");
    list.forEach(function (q) {
      var li = el("li", "card");
      li.appendChild(meta(q, answered));
      li.appendChild(el("p", "appeal-text", q.text));
      var box = el("div", "appeal-answer");
      if (q.answer_text) { box.appendChild(el("p", "prewrap", q.answer_text)); }
      if (isWebLink(q.answer_url)) {
        var p = el("p");
        var a = el("a", null, answered.getAttribute("data-label-answer"));
        a.href = q.answer_url;
        a.rel = "noopener";
        p.appendChild(a);
        box.appendChild(p);
      }
      li.appendChild(box);
      ol.appendChild(li);
    });
    answered.appendChild(ol);
  }

  function apply(data) {
    if (phase && data.phase_label) {
      phase.textContent = data.phase_label;
      phase.setAttribute("data-phase", data.phase);
    }
    drawCurrent(data.current);
    drawAnswered(data.answered || []);
  }

  function schedule() {
    timer = window.setTimeout(poll, interval);
  }

  function poll() {
    timer = null;
    if (document.hidden) { schedule(); return; }
    fetch(url, { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) { throw new Error("HTTP " + response.status); }
        return response.text();
      })
      .then(function (body) {
        if (body !== lastBody) {  // redraw only when something changed
          lastBody = body;
          apply(JSON.parse(body));
        }
      })
      .catch(function () { /* keep the last picture; try again on the next tick */ })
      .then(function () {
        if (!phase || phase.getAttribute("data-phase") !== "finished") { schedule(); }
      });
  }

  if (auto) { auto.hidden = false; }
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && timer === null) { poll(); }
  });
  schedule();
})();
