/* The staff verifier page: it verifies offline with dcc_core.js (loaded first) against
 * the trust and revocation lists cached from the server; when the server is reachable its
 * answer (the full check: schema, value sets, key usage) replaces ours. Without
 * JavaScript the form posts to the server, which verifies.
 */
(function () {
  "use strict";

  var verifyHc1 = window.covidhubDcc.verifyHc1;
  /* Page wiring ----------------------------------------------------------------------- */

  var STORE = "covidhub.verifier.lists";

  function loadCached() {
    try { return JSON.parse(localStorage.getItem(STORE) || "null"); } catch (e) { return null; }
  }

  async function refreshLists(root) {
    try {
      var responses = await Promise.all([fetch(root.dataset.trustListUrl, { cache: "no-store" }), fetch(root.dataset.revocationsUrl, { cache: "no-store" })]);
      if (!responses[0].ok || !responses[1].ok) throw new Error("status");
      var lists = { trust: await responses[0].json(), revocations: await responses[1].json(), fetched_at: new Date().toISOString() };
      localStorage.setItem(STORE, JSON.stringify(lists));
      return lists;
    } catch (e) {
      return loadCached();
    }
  }

  function messages() {
    var node = document.getElementById("verifier-messages");
    return node ? JSON.parse(node.textContent) : {};
  }

  function show(result, offlineNote) {
    var texts = messages();
    var box = document.getElementById("result");
    box.textContent = "";
    var section = document.createElement("section");
    section.className = "verdict " + (result.valid ? "valid" : "invalid");
    section.dataset.reason = result.reason;
    if (offlineNote) section.dataset.offline = "true";
    var heading = document.createElement("h2");
    heading.textContent = result.valid ? (texts.valid_title || "✓") : (texts.invalid_title || "✗");
    section.appendChild(heading);
    var p = document.createElement("p");
    p.textContent = result.message || texts[result.reason] || result.reason;
    section.appendChild(p);
    if (result.valid) {
      var dl = document.createElement("dl");
      [[texts.name, (result.family_name + " " + result.given_name).trim()],
       [texts.dob, result.date_of_birth],
       [texts.type, texts["kind_" + result.certificate_type] || result.certificate_type],
       [texts.valid_until, new Date(result.expires_at).toLocaleString()]].forEach(function (row) {
        var dt = document.createElement("dt"); dt.textContent = row[0];
        var dd = document.createElement("dd"); dd.textContent = row[1];
        dl.appendChild(dt); dl.appendChild(dd);
      });
      section.appendChild(dl);
      // The server's answer carries the checkpoint rules (the offline check does not).
      if (result.rules) {
        section.className = "verdict " + ({ accepted: "valid", open: "open" }[result.verdict] || "invalid");
        var verdict = document.createElement("p");
        verdict.className = "rule-verdict rule-" + result.verdict;
        verdict.dataset.verdict = result.verdict;
        var strong = document.createElement("strong");
        strong.textContent = result.verdict_message;
        verdict.appendChild(strong);
        section.appendChild(verdict);
        var heading = document.createElement("h3");
        heading.textContent = texts.rules_title;
        section.appendChild(heading);
        var list = document.createElement("ul");
        list.className = "rule-list";
        var marks = { passed: "✓ ", failed: "✗ ", open: "? " };
        result.rules.forEach(function (line) {
          var item = document.createElement("li");
          item.className = "rule-" + line.status;
          item.dataset.rule = line.identifier;
          item.dataset.status = line.status;
          var status = document.createElement("span");
          status.className = "rule-status";
          status.textContent = marks[line.status] + (texts["status_" + line.status] || line.status);
          item.appendChild(status);
          item.appendChild(document.createTextNode(" " + line.description + (line.values ? " (" + line.values + ")" : "")));
          list.appendChild(item);
        });
        section.appendChild(list);
        if (result.notes && result.notes.length) {
          var notesHeading = document.createElement("h3");
          notesHeading.textContent = texts.notes_title;
          section.appendChild(notesHeading);
          var notes = document.createElement("ul");
          result.notes.forEach(function (text) {
            var li = document.createElement("li"); li.textContent = text; notes.appendChild(li);
          });
          section.appendChild(notes);
        }
      }
    }
    if (offlineNote) {
      var note = document.createElement("p");
      note.className = "offline-note";
      note.textContent = offlineNote;
      section.appendChild(note);
    }
    box.appendChild(section);
    section.setAttribute("tabindex", "-1");
    section.focus();
  }

  async function onSubmit(event, root, form, input, state) {
    event.preventDefault();
    var text = input.value;
    var texts = messages();
    // A later scan wins: an answer that arrives after a newer submission is dropped.
    state.seq = (state.seq || 0) + 1;
    var seq = state.seq;
    var current = function () { return seq === state.seq; };
    var offlineNote = state.lists ? (texts.offline || "").replace("%(date)s", new Date(state.lists.fetched_at).toLocaleString()) : "";
    if (state.lists) {
      var local = await verifyHc1(text, state.lists, Date.now() / 1000);
      if (current()) show(local, offlineNote);
    }
    try {
      var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      var response = await fetch(root.dataset.verifyUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: JSON.stringify({ text: text, purpose: (form.querySelector("[name=purpose]") || {}).value || "venue" }),
        credentials: "same-origin",
      });
      if (!response.ok) throw new Error("status " + response.status);
      var answer = await response.json();
      if (current()) show(answer, "");
    } catch (e) {
      if (!state.lists) form.submit();
    }
    // Clear the field for the next scan, unless the next scan is already in it.
    if (current() && input.value === text) input.value = "";
    if (current()) input.focus();
  }

  async function init() {
    var root = document.getElementById("verifier");
    if (!root) return;
    var form = document.getElementById("verify-form");
    var input = form.querySelector("input[name=text]");
    var state = { lists: loadCached() };
    var texts = messages();
    form.addEventListener("submit", function (event) { onSubmit(event, root, form, input, state); });
    if ("BarcodeDetector" in window && navigator.mediaDevices) {
      document.getElementById("scan").hidden = false;
      document.getElementById("scan-start").addEventListener("click", function () {
        window.covidhubDcc.scanQr(form, input, function () {
          document.getElementById("trust-status").textContent = messages().camera_error || "";
        });
      });
    }
    if ("serviceWorker" in navigator && root.dataset.swUrl) {
      navigator.serviceWorker.register(root.dataset.swUrl, { scope: window.location.pathname }).catch(function () {});
    }
    var lists = await refreshLists(root);
    if (lists) {
      state.lists = lists;
      var status = document.getElementById("trust-status");
      status.textContent = (texts.trust_status || "").replace("%(count)s", lists.trust.certificates.length)
        .replace("%(date)s", new Date(lists.fetched_at).toLocaleString());
      root.dataset.ready = "true";
    }
  }

  window.covidhubVerifier = window.covidhubDcc;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
