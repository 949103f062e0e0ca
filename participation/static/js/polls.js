/* Surveys: optional enhancements. Every page works without this script.
 * 1. Questions with a display condition that depends on a question on the same page are
 *    hidden until one of their trigger options is chosen (the server checks it again).
 * 2. The publisher's live response count refreshes itself.
 * 3. An export in progress updates its progress bar and shows the download link when done.
 */
(function () {
  "use strict";

  function chosen(sourceId) {
    var inputs = document.querySelectorAll('input[name="q' + sourceId + '"]');
    var values = [];
    for (var i = 0; i < inputs.length; i++) {
      if (inputs[i].checked) { values.push(inputs[i].value); }
    }
    return values;
  }

  function updateConditions() {
    var blocks = document.querySelectorAll("[data-condition-source]");
    for (var i = 0; i < blocks.length; i++) {
      var block = blocks[i];
      var source = block.getAttribute("data-condition-source");
      if (!document.querySelector('input[name="q' + source + '"]')) { continue; }
      var wanted = block.getAttribute("data-condition-options").split(",");
      var values = chosen(source);
      var sourceBlock = document.getElementById("q" + source);
      var sourceShown = !sourceBlock || !sourceBlock.hidden;
      var show = sourceShown && values.some(function (v) { return wanted.indexOf(v) !== -1; });
      block.hidden = !show;
    }
  }

  var form = document.querySelector(".poll-form");
  if (form) {
    form.addEventListener("change", updateConditions);
    updateConditions();
  }

  var counter = document.querySelector("[data-live-count]");
  if (counter && window.fetch) {
    var countUrl = counter.getAttribute("data-live-count");
    window.setInterval(function () {
      fetch(countUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) { if (data) { counter.textContent = data.respondents; } })
        .catch(function () {});
    }, 15000);
  }

  var job = document.querySelector("[data-export-status]");
  if (job && window.fetch) {
    var statusUrl = job.getAttribute("data-export-status");
    var timer = window.setInterval(function () {
      fetch(statusUrl, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (data) {
          if (!data) { return; }
          var bar = job.querySelector("progress");
          var text = job.querySelector("[data-export-percent]");
          if (bar) { bar.value = data.percent; }
          if (text) { text.textContent = data.percent + " %"; }
          if (data.status === "done" || data.status === "failed") {
            window.clearInterval(timer);
            window.location.reload();
          }
        })
        .catch(function () {});
    }, 2000);
  }
})();
