/* The verifier's service worker: the page, its assets and the trust and revocation lists
   are cached, so that a verifier who loaded the page once can keep verifying offline. */
const CACHE = "covidhub-verifier-{{ version }}";
const ASSETS = {{ assets|safe }};
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k.startsWith("covidhub-verifier-") && k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});
self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.ok && ASSETS.includes(new URL(request.url).pathname)) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(request, copy));
      }
      return response;
    }).catch(() => caches.match(request, { ignoreSearch: true }))
  );
});
