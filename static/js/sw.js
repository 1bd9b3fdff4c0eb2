/* ITB Portal service worker (served at /sw.js, scope /).
 *
 * Offline copies: a page is kept only when the server marks it with X-Offline-Key (a parent's
 * home card, child pages, emergency card, emergency page), in a cache named after that key, which
 * belongs to one signed-in parent. Keeping a page under a new key first deletes every other
 * parent's cache, so nothing of another family is ever kept. Signing out clears them all (the
 * Clear-Site-Data header of the sign-out response, and js/pwa.js on the signed-out page).
 * Pages are always fetched from the network first; a kept copy is shown only without a network.
 */
"use strict";

const FAMILY_PREFIX = "itb-family-";
const STATIC_CACHE = "itb-static-v1";
const KEY_PATTERN = /^[0-9a-f]{16,64}$/;

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

async function dropFamilyCaches(except) {
  for (const name of await caches.keys()) {
    if (name.startsWith(FAMILY_PREFIX) && name !== except) {
      await caches.delete(name);
    }
  }
}

async function keep(url, response) {
  const key = response.headers.get("X-Offline-Key") || "";
  if (!response.ok || response.redirected || !KEY_PATTERN.test(key)) {
    return;
  }
  const name = FAMILY_PREFIX + key;
  await dropFamilyCaches(name);
  const cache = await caches.open(name);
  await cache.put(url, response);
}

async function keptCopy(url) {
  for (const name of await caches.keys()) {
    if (name.startsWith(FAMILY_PREFIX)) {
      const hit = await (await caches.open(name)).match(url);
      if (hit) {
        return hit;
      }
    }
  }
  return undefined;
}

function offlinePage() {
  const body = "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>" +
    "<title>ITB Portal</title><h1>No network</h1>" +
    "<p>This page was not kept on this phone. / Esta página no está guardada en este teléfono.</p>" +
    "<p><a href='/emergency/'>Emergency / Emergencia</a></p>";
  return new Response(body, {status: 503, headers: {"Content-Type": "text/html; charset=utf-8"}});
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) {
    return;
  }
  if (url.pathname.startsWith("/static/")) {
    // Public files: network first, the last good copy without a network.
    event.respondWith(
      fetch(request)
        .then((response) => {
          if (response.ok) {
            const copy = response.clone();
            event.waitUntil(caches.open(STATIC_CACHE).then((cache) => cache.put(request, copy)));
          }
          return response;
        })
        .catch(() => caches.match(request, {cacheName: STATIC_CACHE}).then((hit) => hit || Response.error()))
    );
    return;
  }
  if (request.mode !== "navigate") {
    return;
  }
  const page = url.origin + url.pathname + url.search;
  event.respondWith(
    fetch(request)
      .then((response) => {
        event.waitUntil(keep(page, response.clone()));
        return response;
      })
      .catch(async () => (await keptCopy(page)) || offlinePage())
  );
});

// A page asks to keep itself and the pages it links with data-offline (while online).
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.clear) {
    event.waitUntil(dropFamilyCaches(null));
    return;
  }
  if (!Array.isArray(data.keep)) {
    return;
  }
  event.waitUntil(
    Promise.all(
      data.keep.slice(0, 20).map(async (path) => {
        const url = new URL(path, self.location.origin);
        if (url.origin !== self.location.origin) {
          return;
        }
        try {
          const response = await fetch(url.href, {credentials: "same-origin", redirect: "manual"});
          await keep(url.origin + url.pathname + url.search, response);
        } catch (error) {
          // No network right now: the copy already kept stays.
        }
      })
    ).then(() => {
      if (event.source) {
        event.source.postMessage({kept: true});
      }
    })
  );
});
