/* The offline verifier of EU digital COVID certificates (HC1), for staff phones.
 *
 * HC1: text → Base45 → zlib (DecompressionStream "deflate") → COSE_Sign1 (CBOR) →
 * signature over the Sig_structure, checked with WebCrypto against the public key of the
 * signer (DSC) in the trust list cached from the server. Then the CWT times, the revoked
 * keys and the revoked UVCIs (SHA-256) of the cached revocation list. When the server is
 * reachable its answer (the full check: schema, value sets, key usage) replaces ours.
 * Without JavaScript the form posts to the server, which verifies.
 */
(function () {
  "use strict";

  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
  var MAX_TEXT = 8192;
  var MAX_COSE = 65536;
  var LEEWAY_SECONDS = 300;

  function Refused(reason) { this.reason = reason; }

  function base45Decode(text) {
    var out = [];
    for (var i = 0; i < text.length; i += 3) {
      var chunk = text.substr(i, 3);
      var values = [];
      for (var j = 0; j < chunk.length; j++) {
        var v = B45.indexOf(chunk[j]);
        if (v < 0) throw new Refused("base45_invalid");
        values.push(v);
      }
      if (values.length === 1) throw new Refused("base45_invalid");
      var n = values[0] + values[1] * 45 + (values.length === 3 ? values[2] * 2025 : 0);
      if (values.length === 3) {
        if (n > 0xffff) throw new Refused("base45_invalid");
        out.push(n >> 8, n & 0xff);
      } else {
        if (n > 0xff) throw new Refused("base45_invalid");
        out.push(n);
      }
    }
    return new Uint8Array(out);
  }

  async function inflate(bytes) {
    if (bytes.length < 2 || (bytes[0] & 0x0f) !== 8 || ((bytes[0] << 8) | bytes[1]) % 31 !== 0) {
      throw new Refused("zlib_invalid");
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    var reader = stream.getReader();
    var chunks = [];
    var total = 0;
    try {
      for (;;) {
        var step = await reader.read();
        if (step.done) break;
        total += step.value.length;
        if (total > MAX_COSE) { reader.cancel(); throw new Refused("input_too_large"); }
        chunks.push(step.value);
      }
    } catch (error) {
      if (error instanceof Refused) throw error;
      throw new Refused("zlib_invalid");
    }
    var out = new Uint8Array(total);
    var offset = 0;
    chunks.forEach(function (c) { out.set(c, offset); offset += c.length; });
    return out;
  }

  /* A small CBOR decoder (RFC 8949): what COSE and the DCC payload use. */
  function cborDecode(bytes, reason) {
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var pos = 0;
    function need(n) { if (pos + n > bytes.length) throw new Refused(reason); }
    function readLength(info) {
      if (info < 24) return info;
      if (info === 24) { need(1); return bytes[pos++]; }
      if (info === 25) { need(2); var a = view.getUint16(pos); pos += 2; return a; }
      if (info === 26) { need(4); var b = view.getUint32(pos); pos += 4; return b; }
      if (info === 27) {
        need(8); var hi = view.getUint32(pos); var lo = view.getUint32(pos + 4); pos += 8;
        if (hi > 0x1fffff) throw new Refused(reason);
        return hi * 4294967296 + lo;
      }
      throw new Refused(reason);
    }
    function halfFloat(h) {
      var e = (h >> 10) & 0x1f, f = h & 0x3ff, s = h & 0x8000 ? -1 : 1;
      if (e === 0) return s * Math.pow(2, -14) * (f / 1024);
      if (e === 31) return f ? NaN : s * Infinity;
      return s * Math.pow(2, e - 15) * (1 + f / 1024);
    }
    function item(depth) {
      if (depth > 32) throw new Refused(reason);
      need(1);
      var initial = bytes[pos++];
      var major = initial >> 5, info = initial & 0x1f;
      if (major === 7) {
        if (info === 20) return false;
        if (info === 21) return true;
        if (info === 22 || info === 23) return null;
        if (info === 25) { need(2); var h = view.getUint16(pos); pos += 2; return halfFloat(h); }
        if (info === 26) { need(4); var f = view.getFloat32(pos); pos += 4; return f; }
        if (info === 27) { need(8); var d = view.getFloat64(pos); pos += 8; return d; }
        throw new Refused(reason);
      }
      if (info === 31) {
        if (major === 2 || major === 3) {
          var parts = [];
          for (;;) {
            need(1);
            if (bytes[pos] === 0xff) { pos++; break; }
            var part = item(depth + 1);
            parts.push(part);
          }
          if (major === 3) return parts.join("");
          var size = parts.reduce(function (s, p) { return s + p.length; }, 0);
          var joined = new Uint8Array(size), o = 0;
          parts.forEach(function (p) { joined.set(p, o); o += p.length; });
          return joined;
        }
        if (major === 4) {
          var list = [];
          for (;;) { need(1); if (bytes[pos] === 0xff) { pos++; return list; } list.push(item(depth + 1)); }
        }
        if (major === 5) {
          var map = new Map();
          for (;;) {
            need(1); if (bytes[pos] === 0xff) { pos++; return map; }
            var key = item(depth + 1); map.set(key, item(depth + 1));
          }
        }
        throw new Refused(reason);
      }
      var length = readLength(info);
      if (major === 0) return length;
      if (major === 1) return -1 - length;
      if (major === 2) { need(length); var b = bytes.slice(pos, pos + length); pos += length; return b; }
      if (major === 3) {
        need(length);
        var text;
        try { text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(pos, pos + length)); }
        catch (e) { throw new Refused(reason); }
        pos += length; return text;
      }
      if (major === 4) {
        if (length > bytes.length) throw new Refused(reason);
        var arr = [];
        for (var i = 0; i < length; i++) arr.push(item(depth + 1));
        return arr;
      }
      if (major === 5) {
        if (length > bytes.length) throw new Refused(reason);
        var m = new Map();
        for (var k = 0; k < length; k++) { var mk = item(depth + 1); m.set(mk, item(depth + 1)); }
        return m;
      }
      return { tag: length, value: item(depth + 1) };  /* major 6 */
    }
    var result = item(0);
    if (pos !== bytes.length) throw new Refused(reason);
    return result;
  }

  function cborHead(major, length) {
    if (length < 24) return [(major << 5) | length];
    if (length < 256) return [(major << 5) | 24, length];
    if (length < 65536) return [(major << 5) | 25, length >> 8, length & 0xff];
    return [(major << 5) | 26, (length >>> 24) & 0xff, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff];
  }

  function sigStructure(protectedBytes, payload) {
    var context = new TextEncoder().encode("Signature1");
    var parts = [
      [0x84], cborHead(3, context.length), context,
      cborHead(2, protectedBytes.length), protectedBytes,
      [0x40],
      cborHead(2, payload.length), payload,
    ];
    var size = parts.reduce(function (s, p) { return s + p.length; }, 0);
    var out = new Uint8Array(size), o = 0;
    parts.forEach(function (p) { out.set(p, o); o += p.length; });
    return out;
  }

  function b64ToBytes(text) {
    var raw = atob(text), out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function bytesToB64(bytes) {
    var s = ""; for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s);
  }
  async function sha256Hex(text) {
    var digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
    return Array.prototype.map.call(digest, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  async function signatureVerifies(entry, algorithm, data, signature) {
    try {
      var spki = b64ToBytes(entry.public_key);
      if (algorithm === -7) {
        if (signature.length !== 64) return false;
        var ecKey = await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
        return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, ecKey, signature, data);
      }
      var rsaKey = await crypto.subtle.importKey("spki", spki, { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
      return await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, rsaKey, signature, data);
    } catch (e) {
      return false;
    }
  }

  /* Verify an HC1 text against {trust, revocations}; resolves to a result, never rejects. */
  async function verifyHc1(text, lists, nowSeconds) {
    try {
      return await verifyInner(text, lists, nowSeconds);
    } catch (error) {
      if (error instanceof Refused) return { valid: false, reason: error.reason };
      return { valid: false, reason: "cose_invalid" };
    }
  }

  async function verifyInner(text, lists, nowSeconds) {
    if (typeof text !== "string" || text.length > MAX_TEXT) throw new Refused("input_too_large");
    text = text.replace(/[\r\n]+$/, "");
    if (text.indexOf("HC1:") !== 0) throw new Refused("bad_prefix");
    var cose = await inflate(base45Decode(text.slice(4)));
    var message = cborDecode(cose, "cose_invalid");
    if (message && message.tag === 61) message = message.value;
    if (message && message.tag !== undefined) {
      if (message.tag !== 18) throw new Refused("cose_invalid");
      message = message.value;
    }
    if (!Array.isArray(message) || message.length !== 4) throw new Refused("cose_invalid");
    var protectedBytes = message[0], unprotected = message[1], payload = message[2], signature = message[3];
    if (!(protectedBytes instanceof Uint8Array) || !(unprotected instanceof Map) ||
        !(payload instanceof Uint8Array) || !(signature instanceof Uint8Array)) throw new Refused("cose_invalid");
    var headers = protectedBytes.length ? cborDecode(protectedBytes, "cose_invalid") : new Map();
    if (!(headers instanceof Map)) throw new Refused("cose_invalid");
    var algorithm = headers.has(1) ? headers.get(1) : unprotected.get(1);
    var kid = headers.has(4) ? headers.get(4) : unprotected.get(4);

    var claims = cborDecode(payload, "cbor_invalid");
    if (!(claims instanceof Map)) throw new Refused("cbor_invalid");
    var container = claims.get(-260);
    var hcert = container instanceof Map ? container.get(1) : null;
    var exp = claims.get(4), iat = claims.get(6);
    if (!(hcert instanceof Map) || typeof exp !== "number" || typeof iat !== "number") throw new Refused("cbor_invalid");

    var kidText = kid instanceof Uint8Array ? bytesToB64(kid) : null;
    var candidates = kidText ? lists.trust.certificates.filter(function (c) { return c.kid === kidText; }) : [];
    if (!candidates.length) throw new Refused("unknown_kid");
    if (algorithm !== -7 && algorithm !== -37) throw new Refused("unsupported_algorithm");
    var data = sigStructure(protectedBytes, payload);
    var signer = null;
    for (var i = 0; i < candidates.length && !signer; i++) {
      if (await signatureVerifies(candidates[i], algorithm, data, signature)) signer = candidates[i];
    }
    if (!signer) throw new Refused("signature_invalid");
    if ((lists.revocations.kids || []).indexOf(kidText) >= 0) throw new Refused("key_revoked");
    if (nowSeconds < Date.parse(signer.not_valid_before) / 1000) throw new Refused("dsc_not_yet_valid");
    if (nowSeconds > Date.parse(signer.not_valid_after) / 1000) throw new Refused("dsc_expired");
    if (nowSeconds > exp) throw new Refused("expired");
    if (iat > nowSeconds + LEEWAY_SECONDS) throw new Refused("not_yet_valid");

    var kinds = ["v", "t", "r"].filter(function (k) { return hcert.has(k); });
    var name = hcert.get("nam");
    if (kinds.length !== 1 || !(name instanceof Map) || typeof hcert.get("dob") !== "string") throw new Refused("schema_invalid");
    var entries = hcert.get(kinds[0]);
    if (!Array.isArray(entries) || entries.length !== 1 || !(entries[0] instanceof Map)) throw new Refused("schema_invalid");
    var uvci = entries[0].get("ci");
    if (typeof uvci !== "string") throw new Refused("schema_invalid");
    if ((lists.revocations.uvci_sha256 || []).indexOf(await sha256Hex(uvci.toUpperCase())) >= 0) throw new Refused("revoked");
    return {
      valid: true,
      reason: "valid",
      family_name: name.get("fn") || name.get("fnt") || "",
      given_name: name.get("gn") || name.get("gnt") || "",
      date_of_birth: hcert.get("dob"),
      certificate_type: kinds[0],
      expires_at: new Date(exp * 1000).toISOString(),
      uvci: uvci,
    };
  }

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

  async function startCamera(input, form) {
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
      var status = document.getElementById("trust-status");
      status.textContent = messages().camera_error || "";
    }
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
      document.getElementById("scan-start").addEventListener("click", function () { startCamera(input, form); });
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

  window.covidhubVerifier = { verifyHc1: verifyHc1, base45Decode: base45Decode, cborDecode: cborDecode };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
