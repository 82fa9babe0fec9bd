/* The public checkpoint verifier (a venue, a bus station): no account, works offline.
 *
 * It downloads the public trust list, revocation list and, where the server publishes
 * them, the value sets and acceptance rules; keeps them (public data only) in
 * localStorage with the server's time of issue; verifies scanned or pasted HC1 texts with
 * dcc_core.js (WebCrypto); and shows only the name, the date of birth and the colour of
 * the outcome. Nothing about a person is stored: the result is cleared after a minute and
 * the text field at once. The data's age is always shown: past WARN_HOURS a warning,
 * past the page's configured maximum no certificate is checked until the data is updated.
 */
(function () {
  "use strict";

  var STORE = "covidhub.checkpoint.lists";
  var CLEAR_AFTER_MS = 60000;
  var root, texts, state = { lists: null, seq: 0, clearTimer: null };

  function message(key, values) {
    var text = texts[key] || key;
    Object.keys(values || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(String(values[name]));
    });
    return text;
  }

  function loadStored() {
    try {
      var lists = JSON.parse(localStorage.getItem(STORE) || "null");
      return lists && lists.trust && lists.revocations ? lists : null;
    } catch (e) { return null; }
  }

  async function fetchJson(url) {
    var response = await fetch(url, { cache: "no-store", credentials: "omit" });
    if (!response.ok) throw new Error("status " + response.status);
    return response.json();
  }

  /* Download every list; keep the previous set unless all required ones arrive. */
  async function sync() {
    var data = root.dataset;
    try {
      var required = await Promise.all([fetchJson(data.trustListUrl), fetchJson(data.revocationsUrl)]);
      var optional = await Promise.all([data.valuesetsUrl, data.rulesUrl].map(function (url) {
        return url ? fetchJson(url).catch(function () { return null; }) : Promise.resolve(null);
      }));
      var lists = { trust: required[0], revocations: required[1], valuesets: optional[0], rules: optional[1] };
      if (!Array.isArray(lists.trust.certificates) || !lists.trust.generated_at) throw new Error("trust list");
      localStorage.setItem(STORE, JSON.stringify(lists));
      state.lists = lists;
      return true;
    } catch (e) {
      return false;
    }
  }

  /* Age of the data in hours, from the server's time of issue of the trust list. */
  function ageHours(lists) {
    return (Date.now() - Date.parse(lists.trust.generated_at)) / 3600000;
  }

  function freshness(lists) {
    if (!lists) return "none";
    var age = ageHours(lists);
    if (!(age < Number(root.dataset.maxAgeHours))) return "expired";
    if (age > Number(root.dataset.warnAgeHours)) return "stale";
    return "fresh";
  }

  function showStatus(synced) {
    var node = document.getElementById("data-status");
    var lists = state.lists;
    var level = freshness(lists);
    root.dataset.freshness = level;
    node.className = "data-status data-" + level;
    if (!lists) {
      node.textContent = message("no_data");
      return;
    }
    var parts = [message("data_of", {
      date: new Date(lists.trust.generated_at).toLocaleString(),
      keys: lists.trust.certificates.length,
      revoked: (lists.revocations.uvci_sha256 || []).length,
    })];
    parts.push(rulesUsable(lists) ? message("rules_loaded") : message("rules_missing"));
    if (level === "stale") parts.push(message("data_stale", { hours: root.dataset.warnAgeHours }));
    if (level === "expired") parts.push(message("data_expired", { hours: root.dataset.maxAgeHours }));
    if (!synced) parts.push(message("offline"));
    node.textContent = parts.join(" ");
  }

  /* The acceptance rules count only when they arrived and an evaluator is loaded. */
  function rulesUsable(lists) {
    return Boolean(lists && lists.rules && window.covidhubCertLogic);
  }

  function clearResult() {
    var box = document.getElementById("result");
    box.textContent = "";
  }

  function show(result) {
    clearResult();
    var box = document.getElementById("result");
    var section = document.createElement("section");
    section.className = "verdict " + (result.valid ? "valid" : "invalid");
    section.dataset.reason = result.reason;
    section.setAttribute("aria-labelledby", "verdict-title");
    var heading = document.createElement("h2");
    heading.id = "verdict-title";
    heading.textContent = result.valid ? message("valid_title") : message("invalid_title");
    section.appendChild(heading);
    if (result.valid) {
      var dl = document.createElement("dl");
      [[message("name"), (result.family_name + " " + result.given_name).trim()],
       [message("dob"), result.date_of_birth]].forEach(function (row) {
        var dt = document.createElement("dt"); dt.textContent = row[0];
        var dd = document.createElement("dd"); dd.textContent = row[1];
        dl.appendChild(dt); dl.appendChild(dd);
      });
      section.appendChild(dl);
    } else {
      var p = document.createElement("p");
      p.textContent = message(result.reason);
      section.appendChild(p);
    }
    if (result.note) {
      var note = document.createElement("p");
      note.className = "offline-note";
      note.textContent = result.note;
      section.appendChild(note);
    }
    box.appendChild(section);
    section.setAttribute("tabindex", "-1");
    section.focus();
    clearTimeout(state.clearTimer);
    state.clearTimer = setTimeout(clearResult, CLEAR_AFTER_MS);
  }

  async function check(text) {
    var lists = state.lists;
    var level = freshness(lists);
    if (level === "none") return { valid: false, reason: "no_data" };
    if (level === "expired") return { valid: false, reason: "data_too_old" };
    var result = await window.covidhubDcc.verifyHc1(text, lists, Date.now() / 1000);
    // Only what the outcome needs leaves this function.
    var shown = { valid: result.valid, reason: result.reason };
    if (result.valid) {
      shown.family_name = result.family_name;
      shown.given_name = result.given_name;
      shown.date_of_birth = result.date_of_birth;
      if (!rulesUsable(lists)) shown.note = message("crypto_only");
    }
    if (level === "stale") shown.note = [shown.note, message("data_stale", { hours: root.dataset.warnAgeHours })].filter(Boolean).join(" ");
    return shown;
  }

  async function onSubmit(event) {
    event.preventDefault();
    var input = document.getElementById("qr-text");
    var text = input.value.trim();
    input.value = "";
    if (!text) return;
    state.seq += 1;
    var seq = state.seq;
    var result = await check(text);
    if (seq === state.seq) show(result);
  }

  async function startCamera(form, input) {
    var video = document.getElementById("scan-video");
    try {
      var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      var stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
      video.hidden = false;
      video.srcObject = stream;
      await video.play();
      var stop = function () { stream.getTracks().forEach(function (t) { t.stop(); }); video.hidden = true; };
      var tick = async function () {
        try {
          var codes = await detector.detect(video);
          if (codes.length && codes[0].rawValue) {
            stop();
            input.value = codes[0].rawValue;
            form.requestSubmit();
            return;
          }
        } catch (e) { /* next frame */ }
        requestAnimationFrame(tick);
      };
      requestAnimationFrame(tick);
    } catch (e) {
      document.getElementById("scan-error").textContent = message("camera_error");
    }
  }

  async function refresh() {
    var button = document.getElementById("data-refresh");
    button.disabled = true;
    var synced = await sync();
    showStatus(synced);
    button.disabled = false;
    return synced;
  }

  async function init() {
    root = document.getElementById("checkpoint");
    if (!root) return;
    var node = document.getElementById("checkpoint-messages");
    texts = node ? JSON.parse(node.textContent) : {};
    var form = document.getElementById("check-form");
    var input = document.getElementById("qr-text");
    form.hidden = false;
    form.addEventListener("submit", onSubmit);
    input.addEventListener("keydown", function (event) {
      // A scanner types the text and Enter: submit (Shift+Enter keeps a new line).
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); form.requestSubmit(); }
    });
    document.getElementById("data-refresh").addEventListener("click", refresh);
    if ("BarcodeDetector" in window && navigator.mediaDevices) {
      document.getElementById("scan").hidden = false;
      document.getElementById("scan-start").addEventListener("click", function () { startCamera(form, input); });
    }
    if ("serviceWorker" in navigator && root.dataset.swUrl) {
      navigator.serviceWorker.register(root.dataset.swUrl, { scope: root.dataset.scope }).catch(function () {});
    }
    state.lists = loadStored();
    showStatus(false);
    await refresh();
    root.dataset.ready = "true";
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
