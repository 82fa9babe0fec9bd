// Check-in: a USB/Bluetooth scanner types into the text field and presses Enter (no JS
// needed). Where the browser has BarcodeDetector, a camera button scans the QR as well.
(function () {
  "use strict";
  const form = document.getElementById("checkin-form");
  if (!form || !("BarcodeDetector" in window) || !navigator.mediaDevices) return;
  const button = form.querySelector(".scan-camera");
  const video = form.querySelector(".scan-video");
  const input = form.querySelector("input[name=code]");
  if (!button || !video || !input) return;
  button.hidden = false;
  button.addEventListener("click", async function () {
    const detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    const stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } });
    video.srcObject = stream;
    video.hidden = false;
    await video.play();
    const tick = async function () {
      const codes = await detector.detect(video).catch(function () { return []; });
      if (codes.length) {
        stream.getTracks().forEach(function (t) { t.stop(); });
        input.value = codes[0].rawValue;
        form.submit();
        return;
      }
      window.requestAnimationFrame(tick);
    };
    tick();
  });
})();
