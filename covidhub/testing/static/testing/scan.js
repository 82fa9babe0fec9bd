// The sampler's scan field: a USB/Bluetooth scanner types into it and presses Enter (no
// script needed). Where the browser has BarcodeDetector, a camera button fills the same
// field and submits it. The field keeps the focus so that the next scan goes in.
(function () {
  "use strict";
  var input = document.getElementById("scan");
  var form = document.getElementById("scan-form");
  var button = document.getElementById("camera");
  var video = document.getElementById("camera-view");
  if (!input || !form) return;
  input.focus();
  if (!("BarcodeDetector" in window) || !navigator.mediaDevices || !button || !video) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128", "code_39", "ean_13", "data_matrix"] });
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
      video.hidden = false;
      video.srcObject = stream;
      video.play();
      var tick = function () {
        detector.detect(video).then(function (codes) {
          if (codes.length) {
            stream.getTracks().forEach(function (t) { t.stop(); });
            input.value = codes[0].rawValue;
            form.submit();
          } else {
            window.requestAnimationFrame(tick);
          }
        }).catch(function () { window.requestAnimationFrame(tick); });
      };
      tick();
    }).catch(function () { button.hidden = true; });
  });
})();
