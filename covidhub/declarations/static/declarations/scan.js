// Camera scanning where the browser has BarcodeDetector; the text field always works,
// including with a USB/Bluetooth scanner that types the code and presses Enter.
(function () {
  "use strict";
  var form = document.querySelector("form[data-scan-target]");
  if (!form) return;
  var input = document.getElementById(form.getAttribute("data-scan-target"));
  if (!input) return;
  if (form.hasAttribute("data-scan-submit")) {
    input.focus();
  }
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) return;
  var button = document.createElement("button");
  button.type = "button";
  button.className = "button";
  button.textContent = document.documentElement.lang === "en" ? "Scan with the camera" : "Quét bằng camera";
  var video = document.createElement("video");
  video.setAttribute("playsinline", "");
  video.setAttribute("aria-hidden", "true");
  video.style.width = "100%";
  video.style.maxWidth = "24rem";
  video.hidden = true;
  input.parentNode.appendChild(button);
  input.parentNode.appendChild(video);
  var stream = null;
  function stop() {
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.hidden = true;
  }
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
      stream = s;
      video.srcObject = s;
      video.hidden = false;
      return video.play();
    }).then(function () {
      function tick() {
        if (!stream) return;
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            input.value = codes[0].rawValue;
            stop();
            form.submit();
          } else {
            window.setTimeout(tick, 250);
          }
        }).catch(function () { window.setTimeout(tick, 500); });
      }
      tick();
    }).catch(stop);
  });
})();
