/* The checkpoint verifier's service worker: the page and its files, so that a checkpoint
   that opened it once opens it again without a connection. Network first (a new version
   is picked up when online), the cache when offline. The trust and revocation lists are
   not cached here: the page keeps them with their date and says how old they are. */
const CACHE = "covidhub-checkpoint-{{ version }}";
const ASSETS = {{ assets|safe }};
const PAGE = {{ page|safe }};
self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("covidhub-checkpoint-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim())
  );
});
self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const isPage = request.mode === "navigate" && url.pathname === PAGE;
  if (!isPage && !ASSETS.includes(url.pathname)) return;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        caches.open(CACHE).then((cache) => cache.put(isPage ? PAGE : request, copy));
      }
      return response;
    }).catch(() => caches.match(isPage ? PAGE : request, { ignoreSearch: true }))
  );
});
