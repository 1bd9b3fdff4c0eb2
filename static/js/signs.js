/* "Report a sign" (issue 25), with or without a network. No inline script: the CSP allows 'self'.
 *
 * - On the report page, sending goes through fetch: online, the server's "what to do now" page
 *   follows. Without a network the report is kept on this phone (localStorage, this parent's
 *   browser only; signing out clears it) and the page shows what to do from what it carries: the
 *   clinic's instructions for the groups ticked (withdrawal first: the page's order), and the one
 *   number for this hour, found in the clinic's opening hours the page carries (the server's
 *   calendar decides them).
 * - On every page of a signed-in parent, and when the phone comes online, kept reports are sent
 *   (with this page's CSRF token) and the page says so. */
"use strict";
(function () {
  var KEY = "itb-signs-queue";

  function kept() {
    try {
      return JSON.parse(window.localStorage.getItem(KEY) || "[]");
    } catch (error) {
      return [];
    }
  }
  function store(items) {
    try {
      if (items.length) {
        window.localStorage.setItem(KEY, JSON.stringify(items));
      } else {
        window.localStorage.removeItem(KEY);
      }
    } catch (error) {
      // No storage (private window): the page already said what to do.
    }
  }
  function csrfToken() {
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function post(action, fields) {
    var body = new URLSearchParams();
    fields.forEach(function (pair) {
      if (pair[0] !== "csrfmiddlewaretoken") {
        body.append(pair[0], pair[1]);
      }
    });
    body.append("csrfmiddlewaretoken", csrfToken());
    return fetch(action, {method: "POST", body: body, credentials: "same-origin", redirect: "follow"});
  }
  // The server took the report: it answers with its "what to do now" page (not a sign-in page).
  function accepted(response) {
    return response.ok && /^\/family\/signs\/\d+\/$/.test(new URL(response.url).pathname);
  }
  function show(id, visible) {
    var element = document.getElementById(id);
    if (element) {
      element.hidden = !visible;
    }
  }

  var sending = false;
  function sendKept() {
    var items = kept();
    if (sending || !items.length || !navigator.onLine || !csrfToken()) {
      return;
    }
    sending = true;
    var left = [];
    var sent = 0;
    items.reduce(function (chain, item) {
      return chain.then(function () {
        return post(item.action, item.fields).then(function (response) {
          if (accepted(response)) {
            sent += 1;
          } else if (response.ok || response.status >= 500 || response.status === 403) {
            left.push(item); // signed out, or the server: try again later
          } // 400 or 404: refused (not this parent's child any more, or bad): drop it
        }, function () {
          left.push(item); // still no network
        });
      });
    }, Promise.resolve()).then(function () {
      store(left);
      sending = false;
      if (sent) {
        show("signs-queue-sent", true);
        show("signs-queued", false);
        document.body.setAttribute("data-signs-sent", String(sent));
      }
    });
  }

  function clinicOpenNow() {
    var data = document.getElementById("clinic-open-periods");
    var periods = data ? JSON.parse(data.textContent) : [];
    var now = Date.now();
    return periods.some(function (period) {
      return now >= period[0] && now < period[1];
    });
  }

  function showWhatToDo(form) {
    var groups = {};
    form.querySelectorAll("input[name=signs]:checked").forEach(function (box) {
      groups[box.getAttribute("data-group")] = true;
    });
    var first = null;
    document.querySelectorAll("#signs-offline-now [data-sign-group]").forEach(function (section) {
      section.hidden = !groups[section.getAttribute("data-sign-group")];
      if (!section.hidden && !first) {
        first = section;
      }
    });
    if (first) {
      first.after(document.getElementById("now-call-box")); // the number right after the first group
    }
    var open = clinicOpenNow();
    show("signs-form-part", false);
    document.querySelector("#signs-offline-now [data-call=open]").hidden = !open;
    document.querySelector("#signs-offline-now [data-call=closed]").hidden = open;
    show("signs-offline-now", true);
    window.scrollTo(0, 0);
    var heading = document.querySelector("#signs-offline-now h1");
    heading.setAttribute("tabindex", "-1");
    heading.focus();
  }

  var form = document.getElementById("signs-form");
  if (form && window.fetch) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!form.querySelector("input[name=signs]:checked")) {
        show("signs-none", true);
        return;
      }
      var fields = Array.from(new FormData(form).entries()).filter(function (pair) {
        return pair[0] !== "written_at";
      });
      var keep = function () {
        var items = kept();
        // When the parent wrote it, by the phone's clock: the nurses see it beside the time it came.
        items.push({action: form.action, fields: fields.concat([["written_at", String(Date.now())]])});
        store(items);
        showWhatToDo(form);
      };
      if (!navigator.onLine) {
        keep();
        return;
      }
      post(form.action, fields).then(function (response) {
        if (accepted(response)) {
          window.location.assign(response.url);
        } else if (response.ok) {
          keep(); // signed out meanwhile: kept, sent once signed in again
        } else {
          HTMLFormElement.prototype.submit.call(form); // the server says what is wrong
        }
      }, keep);
    });
  }
  window.addEventListener("online", sendKept);
  sendKept();
})();
