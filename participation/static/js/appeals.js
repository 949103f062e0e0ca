// Submission form: suggest the topic from the text without reloading the page.
// Without JavaScript the "Подобрать тему" button submits the form and the server answers.
(function () {
  "use strict";
  var form = document.querySelector("form.appeal-form");
  if (!form) { return; }
  var button = document.getElementById("suggest-button");
  var box = document.getElementById("suggestions");
  var text = form.querySelector("textarea[name=text]");
  var select = form.querySelector("select[name=subcategory_id]");
  if (!button || !box || !text || !select) { return; }
  // The words come translated from the page (data-text-*), as the server would write them.
  function say(name) { return form.getAttribute("data-text-" + name) || ""; }

  function show(items, selected) {
    box.textContent = "";
    if (!items.length) {
      var none = document.createElement("p");
      none.textContent = say("none");
      box.appendChild(none);
      return;
    }
    var intro = document.createElement("p");
    intro.textContent = say("intro");
    box.appendChild(intro);
    var list = document.createElement("ul");
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item.category + " | " + item.subcategory + " — " +
        say("confidence").replace("{pct}", String(Math.round(item.confidence * 100)));
      list.appendChild(li);
    });
    box.appendChild(list);
    // Only a suggestion the server is sure enough about is chosen for the resident.
    var chosen = selected && !select.value &&
      select.querySelector('option[value="' + selected + '"]');
    if (chosen) { select.value = String(selected); }
    var hint = document.createElement("p");
    hint.className = "hint";
    hint.textContent = say(chosen ? "chosen" : "choose");
    box.appendChild(hint);
  }

  button.addEventListener("click", function (event) {
    if (!window.fetch || !text.value.trim()) { return; }
    event.preventDefault();
    var url = form.getAttribute("data-suggest-url") + "?text=" + encodeURIComponent(text.value);
    var org = form.getAttribute("data-org");
    if (org) { url += "&org=" + encodeURIComponent(org); }
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; })
      .then(function (data) { show(data.suggestions || [], data.selected); })
      .catch(function () { form.requestSubmit ? form.requestSubmit(button) : form.submit(); });
  });
})();
