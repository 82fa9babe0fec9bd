// Small progressive enhancements; every page works without this file.
(function () {
  "use strict";
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }
  // Print buttons (no inline handlers: the Content-Security-Policy allows none).
  document.addEventListener("click", function (event) {
    var button = event.target && event.target.closest && event.target.closest("[data-print]");
    if (button) window.print();
  });
  // A language <select> changes the language at once; the button stays for no-JS users.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target && target.id === "language-select" && target.form) target.form.submit();
  });
  // A district filter in front of a long list of communes (people/forms.py,
  // CommuneFilterForm): the list shows the chosen district's communes at once. Without this
  // script the filter's button asks the server for the same list, so the button goes.
  function districtFilter(filter) {
    var list = document.getElementById(filter.getAttribute("data-district-filter"));
    if (!list) return;
    var all = list.cloneNode(true);
    var show = filter.parentNode.querySelector("[data-district-filter-show]");
    if (show) show.parentNode.removeChild(show);
    function narrow() {
      var chosen = list.value;
      while (list.firstChild) list.removeChild(list.firstChild);
      for (var i = 0; i < all.children.length; i++) {
        var child = all.children[i];
        var district = child.getAttribute("data-district");
        if (district === null || !filter.value || district === filter.value) {
          list.appendChild(child.cloneNode(true));
        }
      }
      list.value = chosen;
      if (list.value !== chosen) list.value = "";
    }
    filter.addEventListener("change", narrow);
    narrow();
  }
  var filters = document.querySelectorAll("select[data-district-filter]");
  for (var f = 0; f < filters.length; f++) districtFilter(filters[f]);
  // A page that must show fresh content reloads itself after a visible countdown that can
  // be paused (includes/auto_refresh.html): no meta refresh, which nobody can stop.
  function autoRefresh(box) {
    var left = parseInt(box.getAttribute("data-auto-refresh"), 10);
    if (!(left > 0)) return;
    var text = box.querySelector("[data-auto-refresh-text]");
    var toggle = box.querySelector("[data-auto-refresh-toggle]");
    var status = box.querySelector("[data-auto-refresh-status]");
    var paused = false;
    function clock(seconds) {
      var s = seconds % 60;
      return Math.floor(seconds / 60) + ":" + (s < 10 ? "0" : "") + s;
    }
    function show() {
      text.textContent = paused
        ? box.getAttribute("data-paused")
        : box.getAttribute("data-running").replace("%(time)s", clock(left));
    }
    toggle.addEventListener("click", function () {
      paused = !paused;
      toggle.setAttribute("aria-pressed", paused ? "true" : "false");
      toggle.textContent = box.getAttribute(paused ? "data-resume-label" : "data-pause-label");
      show();
      status.textContent = text.textContent;
    });
    show();
    box.hidden = false;
    window.setInterval(function () {
      if (paused) return;
      left -= 1;
      if (left <= 0) {
        paused = true;
        window.location.reload();
        return;
      }
      show();
    }, 1000);
  }
  var refreshing = document.querySelectorAll("[data-auto-refresh]");
  for (var r = 0; r < refreshing.length; r++) autoRefresh(refreshing[r]);
  // A table that scrolls sideways on a phone can be scrolled with the keyboard too.
  function focusableScrollers() {
    var tables = document.querySelectorAll("main table");
    for (var i = 0; i < tables.length; i++) {
      var table = tables[i];
      if (table.scrollWidth > table.clientWidth + 1 && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
      }
    }
  }
  window.addEventListener("resize", focusableScrollers); // a phone turned, a window narrowed
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusableScrollers);
  } else {
    focusableScrollers();
  }
})();
