// The daily check without a connection: the form is kept on the phone (localStorage, with
// its own client key and the time it was measured) and sent when the connection is back.
// The server records a client key once, so a check sent twice is recorded once.
(function () {
  "use strict";
  var form = document.getElementById("homecare-check");
  if (!form || !window.localStorage || !window.fetch) return;
  var key = form.getAttribute("data-queue-key");
  var notice = document.getElementById("homecare-queue");

  function load() {
    try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(queue) {
    if (queue.length) localStorage.setItem(key, JSON.stringify(queue));
    else localStorage.removeItem(key);
    if (notice) notice.hidden = !queue.length;
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function localNow() {
    var d = new Date();
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + "T" + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }
  function flush() {
    var queue = load();
    if (!queue.length || !navigator.onLine) { save(queue); return; }
    var body = queue[0];
    fetch(form.action || window.location.href, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body,
    }).then(function (response) {
      // Recorded (or refused for good, e.g. the care has ended): either way it leaves the queue.
      if (response.status < 500) { queue.shift(); save(queue); flush(); }
    }).catch(function () { save(queue); });
  }
  form.addEventListener("submit", function (event) {
    if (navigator.onLine) return;
    event.preventDefault();
    var when = form.querySelector("[name=measured_at]");
    if (when && !when.value) when.value = localNow();
    var queue = load();
    queue.push(new URLSearchParams(new FormData(form)).toString());
    save(queue);
  });
  window.addEventListener("online", flush);
  flush();
})();
