// Live preview of the alarm, refill-due and empty dates: POSTs the form (no save) to the
// preview endpoint named in data-preview-url, and swaps in the server-rendered fragment.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  var box = document.getElementById("visit-preview");
  if (!form || !box || !form.dataset.previewUrl) { return; }
  var timer = null;
  var pending = null;

  function refresh() {
    if (pending) { pending.abort(); }
    pending = new AbortController();
    fetch(form.dataset.previewUrl, {
      method: "POST",
      body: new FormData(form),
      credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" },
      signal: pending.signal
    }).then(function (response) {
      if (!response.ok) { throw new Error("preview " + response.status); }
      return response.json();
    }).then(function (data) {
      box.innerHTML = data.html;
    }).catch(function (error) {
      if (error.name !== "AbortError") {
        box.querySelector(".preview-box") && box.querySelector(".preview-box").setAttribute("data-stale", "1");
      }
    });
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 400);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
})();
