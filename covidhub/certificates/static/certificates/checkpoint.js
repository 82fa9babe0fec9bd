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
    var colour = !result.valid ? "invalid" : { failed: "invalid", open: "open" }[result.verdict] || "valid";
    section.className = "verdict " + colour;
    section.dataset.reason = result.reason;
    if (result.verdict) section.dataset.verdict = result.verdict;
    section.setAttribute("aria-labelledby", "verdict-title");
    var heading = document.createElement("h2");
    heading.id = "verdict-title";
    var titles = { passed: "accepted_title", failed: "refused_title", open: "open_title" };
    heading.textContent = !result.valid ? message("invalid_title")
      : message(result.verdict ? titles[result.verdict] : "valid_title");
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
      [["failed", "rules_failed"], ["open", "rules_open"]].forEach(function (pair) {
        var rows = result[pair[0]] || [];
        if (!rows.length) return;
        var title = document.createElement("p");
        title.textContent = message(pair[1]);
        section.appendChild(title);
        var list = document.createElement("ul");
        list.className = "rule-list";
        rows.forEach(function (row) {
          var item = document.createElement("li");
          item.dataset.rule = row.identifier;
          item.textContent = row.description;
          list.appendChild(item);
        });
        section.appendChild(list);
      });
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
    var now = Date.now();
    var result = await window.covidhubDcc.verifyHc1(text, lists, now / 1000);
    // Only what the outcome needs leaves this function.
    var shown = { valid: result.valid, reason: result.reason };
    if (result.valid) {
      shown.family_name = result.family_name;
      shown.given_name = result.given_name;
      shown.date_of_birth = result.date_of_birth;
      if (rulesUsable(lists)) applyRules(shown, result, lists, now);
      else shown.note = message("crypto_only");
    }
    if (level === "stale") shown.note = [shown.note, message("data_stale", { hours: root.dataset.warnAgeHours })].filter(Boolean).join(" ");
    return shown;
  }

  /* The value sets as CertLogic sees them: each set's codes by its id. */
  function valueSetCodes(lists) {
    var sets = (lists.valuesets && lists.valuesets.valueSets) || {};
    var out = {};
    Object.keys(sets).forEach(function (id) { out[id] = Object.keys((sets[id] && sets[id].valueSetValues) || {}); });
    return out;
  }

  /* The checkpoint's acceptance rules for the chosen purpose, on the verified payload. */
  function applyRules(shown, result, lists, now) {
    var purpose = document.getElementById("purpose").value;
    var set = (lists.rules.purposes || {})[purpose];
    if (!set) { shown.note = message("crypto_only"); return; }
    var external = {
      validationClock: new Date(now).toISOString(),
      valueSets: valueSetCodes(lists),
      countryCode: root.dataset.country,
      exp: result.expires_at,
      iat: result.issued_at,
    };
    var outcomes = window.covidhubCertLogic.rulesEvaluate(
      set.rules, result.hcert, external, result.certificate_type, now, document.documentElement.lang
    );
    var statuses = outcomes.map(function (o) { return o.status; });
    shown.verdict = statuses.indexOf("failed") >= 0 ? "failed" : statuses.indexOf("open") >= 0 ? "open" : "passed";
    shown.outcomes = outcomes;
    shown.failed = outcomes.filter(function (o) { return o.status === "failed"; });
    shown.open = outcomes.filter(function (o) { return o.status === "open"; });
    var label = document.querySelector("#purpose option:checked");
    shown.note = message("rules_version", { purpose: label ? label.textContent : purpose, version: set.version }) +
      " " + message("value_sets_version", { version: (lists.valuesets && lists.valuesets.version) || "?" });
  }

  async function onSubmit(event) {
    event.preventDefault();
    var input = document.getElementById("qr-text");
    var text = input.value.trim();
    input.value = "";
    if (!text) return;
    state.seq += 1;
    var seq = state.seq;
    // The previous person's verdict goes at once: while this one is checked (WebCrypto is
    // asynchronous) the screen must not show a green result that belongs to someone else.
    clearTimeout(state.clearTimer);
    clearResult();
    var result = await check(text);
    if (seq === state.seq) show(result);
  }

  async function refresh() {
    var button = document.getElementById("data-refresh");
    button.disabled = true;
    var synced = await sync();
    showStatus(synced);
    document.getElementById("purpose-field").hidden = !rulesUsable(state.lists);
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
      document.getElementById("scan-start").addEventListener("click", function () {
        window.covidhubDcc.scanQr(form, input, function () {
          document.getElementById("scan-error").textContent = message("camera_error");
        });
      });
    }
    if ("serviceWorker" in navigator && root.dataset.swUrl) {
      navigator.serviceWorker.register(root.dataset.swUrl, { scope: root.dataset.scope }).catch(function () {});
    }
    state.lists = loadStored();
    showStatus(false);
    await refresh();
    document.getElementById("purpose-field").hidden = !rulesUsable(state.lists);
    root.dataset.ready = "true";
  }

  // For the browser tests: the same check the form runs, without the page around it.
  window.covidhubCheckpoint = { check: check };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
