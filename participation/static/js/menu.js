// The header menu on narrow screens: a disclosure button (aria-expanded, aria-controls) shows
// and hides the navigation; Escape closes it and puts the focus back on the button. Loaded in
// <head> so the page is marked before its first paint; without this script (or at desktop
// width, where the button is not shown) the menu is always visible.
(function () {
  "use strict";
  document.documentElement.classList.add("js-menu");

  function wire() {
    var button = document.querySelector(".menu-toggle");
    if (!button) { return; }
    var header = button.closest(".site-header");
    function isOpen() { return button.getAttribute("aria-expanded") === "true"; }
    function setOpen(open) {
      button.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    }
    button.hidden = false;
    setOpen(false);
    button.addEventListener("click", function () { setOpen(!isOpen()); });
    document.addEventListener("keydown", function (event) {
      // only where the button is shown (phone width): at desktop the nav is not a disclosure
      if (event.key === "Escape" && isOpen() && button.offsetParent !== null) {
        setOpen(false);
        button.focus();
      }
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", wire);
  } else {
    wire();
  }
})();
