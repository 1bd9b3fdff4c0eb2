// Copy the calendar link to the clipboard (the input stays selectable without JavaScript).
(function () {
  "use strict";
  var button = document.getElementById("copy-feed");
  if (!button) { return; }
  button.addEventListener("click", function () {
    var input = document.getElementById(button.dataset.target);
    var status = document.getElementById("copy-status");
    input.select();
    var done = function () { status.textContent = button.dataset.done; };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
    } else {
      document.execCommand("copy");
      done();
    }
  });
})();
