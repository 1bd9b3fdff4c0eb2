/* Installable portal and offline copies (see /sw.js). No inline script: the CSP allows 'self' only.
 * - <body data-offline>: a parent's page; keep it and the pages it links with data-offline.
 * - <body data-clear-offline>: the signed-out page; delete every kept family page.
 * - #offline-note is shown while there is no network (the page is then a kept copy). */
"use strict";
(function () {
  var body = document.body;
  var note = document.getElementById("offline-note");
  function showNote() {
    if (note) {
      note.hidden = navigator.onLine;
    }
  }
  window.addEventListener("online", showNote);
  window.addEventListener("offline", showNote);
  showNote();

  if (body.hasAttribute("data-clear-offline")) {
    try {
      window.localStorage.removeItem("itb-signs-queue"); // a report kept on the phone (js/signs.js)
    } catch (error) {
      // No storage: nothing was kept.
    }
  }
  if ("caches" in window && body.hasAttribute("data-clear-offline")) {
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf("itb-family-") === 0;
      }).map(function (name) {
        return caches.delete(name);
      }));
    });
  }
  if (!("serviceWorker" in navigator)) {
    return;
  }
  navigator.serviceWorker.register("/sw.js", {scope: "/"}).then(function () {
    return navigator.serviceWorker.ready;
  }).then(function (registration) {
    if (!body.hasAttribute("data-offline") || !navigator.onLine || !registration.active) {
      return;
    }
    var paths = [window.location.pathname + window.location.search];
    document.querySelectorAll("a[data-offline]").forEach(function (link) {
      paths.push(link.getAttribute("href"));
    });
    registration.active.postMessage({keep: paths});
  }).catch(function () {
    // No service worker (private window, old browser): the portal works as before, online.
  });
  navigator.serviceWorker.addEventListener("message", function (event) {
    if (event.data && event.data.kept) {
      body.setAttribute("data-offline-kept", "true");
    }
  });
})();
