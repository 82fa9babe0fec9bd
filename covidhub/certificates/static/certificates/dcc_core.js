/* Decoding and verifying EU digital COVID certificates (HC1) in the browser, written for
 * covidhub (no third-party code): Base45 → zlib (DecompressionStream "deflate") →
 * COSE_Sign1 (CBOR) → signature over the Sig_structure with WebCrypto (ES256, PS256)
 * against the signer (DSC) in a trust list → DSC window, CWT times, revoked keys and
 * revoked UVCIs (SHA-256). Shared by the staff verifier and the public checkpoint
 * verifier; `verifyHc1` never rejects, it resolves to {valid, reason, ...}.
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

  /* true / false, or "unsupported" for a key WebCrypto cannot import for this algorithm
     (another curve or key type): not a forgery, as the server says too. */
  async function signatureVerifies(entry, algorithm, data, signature) {
    var spki = b64ToBytes(entry.public_key);
    var key;
    try {
      key = algorithm === -7
        ? await crypto.subtle.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])
        : await crypto.subtle.importKey("spki", spki, { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"]);
    } catch (e) {
      return "unsupported";
    }
    if (algorithm !== -7 && key.algorithm.modulusLength < 2048) return "unsupported";
    try {
      if (algorithm === -7) {
        if (signature.length !== 64) return false;
        return await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, data);
      }
      return await crypto.subtle.verify({ name: "RSA-PSS", saltLength: 32 }, key, signature, data);
    } catch (e) {
      return false;
    }
  }

  /* A CBOR value as plain JSON (maps with text keys become objects; tag 0/1 times become
     text): what CertLogic rules read as `payload`. */
  function plain(value) {
    if (value instanceof Map) {
      var out = {};
      value.forEach(function (v, k) { out[String(k)] = plain(v); });
      return out;
    }
    if (Array.isArray(value)) return value.map(plain);
    if (value instanceof Uint8Array) return bytesToB64(value);
    if (value && value.tag !== undefined) {
      if (value.tag === 1 && typeof value.value === "number") return new Date(value.value * 1000).toISOString();
      return plain(value.value);
    }
    return value;
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
    var signer = null, unsupported = 0;
    for (var i = 0; i < candidates.length && !signer; i++) {
      var verdict = await signatureVerifies(candidates[i], algorithm, data, signature);
      if (verdict === true) signer = candidates[i];
      else if (verdict === "unsupported") unsupported += 1;
    }
    if (!signer) throw new Refused(unsupported === candidates.length ? "unsupported_key" : "signature_invalid");
    if ((lists.revocations.kids || []).indexOf(kidText) >= 0) throw new Refused("key_revoked");
    if (nowSeconds < Date.parse(signer.not_valid_before) / 1000) throw new Refused("dsc_not_yet_valid");
    if (nowSeconds > Date.parse(signer.not_valid_after) / 1000) throw new Refused("dsc_expired");
    // The specification: issued-at MUST NOT predate the DSC's validity.
    if (iat < Date.parse(signer.not_valid_before) / 1000 - LEEWAY_SECONDS) throw new Refused("issued_before_dsc");
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
      issued_at: new Date(iat * 1000).toISOString(),
      uvci: uvci,
      country: typeof claims.get(1) === "string" ? claims.get(1) : "",
      hcert: plain(hcert),
    };
  }

  // The camera, where the browser has BarcodeDetector: the first QR code read is put in
  // `input` and `form` submitted; `onError` is told when there is no camera to use.
  async function scanQr(form, input, onError) {
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
      onError();
    }
  }

  window.covidhubDcc = { verifyHc1: verifyHc1, base45Decode: base45Decode, cborDecode: cborDecode, plain: plain, scanQr: scanQr };
})();
