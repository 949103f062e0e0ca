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
    if (chosen) {
      select.value = String(selected);
      select.dispatchEvent(new Event("change"));
    }
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

// The territory list keeps only the territories where someone answers the chosen topic.
// Without JavaScript the server narrows it when the form comes back, and refuses the rest.
(function () {
  "use strict";
  var form = document.querySelector("form.appeal-form");
  if (!form || !window.fetch) { return; }
  var topic = form.querySelector("select[name=subcategory_id]");
  var place = form.querySelector("select[name=territory_id]");
  var url = form.getAttribute("data-territories-url");
  if (!topic || !place || !url) { return; }

  topic.addEventListener("change", function () {
    var query = (url.indexOf("?") < 0 ? "?" : "&") + "subcategory_id=" +
      encodeURIComponent(topic.value);
    fetch(url + query, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var served = {};
        data.territories.forEach(function (id) { served[String(id)] = true; });
        Array.prototype.forEach.call(place.options, function (option) {
          var off = option.value !== "" && !served[option.value];
          option.hidden = off;
          option.disabled = off;
        });
        if (place.selectedOptions[0] && place.selectedOptions[0].disabled) { place.value = ""; }
      })
      .catch(function () { /* the server checks the territory on submit anyway */ });
  });
})();

// «Похожие сообщения рядом»: once a point and a topic are chosen, the server's list (with its
// «Присоединиться» buttons, which send this form) replaces the box. Without JavaScript the
// server shows the same list whenever the form comes back.
(function () {
  "use strict";
  var form = document.querySelector("form.appeal-form");
  var box = document.getElementById("nearby");
  if (!form || !box || !window.fetch) { return; }
  var topic = form.querySelector("select[name=subcategory_id]");
  var lat = form.querySelector("input[name=latitude]");
  var lon = form.querySelector("input[name=longitude]");
  var url = box.getAttribute("data-nearby-url");
  if (!topic || !lat || !lon || !url) { return; }
  var asked = 0;
  var shown = null;

  function refresh() {
    var a = lat.value.trim().replace(",", "."), b = lon.value.trim().replace(",", ".");
    if (!topic.value || !a || !b) { return; }
    var query = "?lat=" + encodeURIComponent(a) + "&lon=" + encodeURIComponent(b) +
      "&subcategory_id=" + encodeURIComponent(topic.value);
    if (query === shown) { return; }
    var ticket = ++asked;
    fetch(url + query, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html === null || ticket !== asked) { return; }
        shown = query;
        box.innerHTML = html;  // our own server's fragment, escaped by its templates
      })
      .catch(function () { /* the form works without the list */ });
  }

  topic.addEventListener("change", refresh);
  lat.addEventListener("change", refresh);
  lon.addEventListener("change", refresh);
  form.addEventListener("map:point", refresh);
})();
