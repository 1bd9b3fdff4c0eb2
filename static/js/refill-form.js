// The refill form shows only the fields that apply to what is typed so far: each cell with
// data-applies-when="field=value", "field!=value", "field!=0" or "field!=usual" is hidden when
// its rule does not hold (VisitForm.applies draws the first state; this follows each change).
// A hidden field keeps its value; a field with an error is never hidden, nor a reason or a
// bolus count that holds a value.
(function () {
  "use strict";
  var form = document.getElementById("visit-form");
  if (!form) { return; }
  var USUAL = ["500", "1000", "2000"];

  function valueOf(name) {
    var field = form.querySelector("[data-field='" + name + "'] [name$='" + name + "']");
    return field ? field.value.trim() : "";
  }

  function holds(rule) {
    var m = rule.match(/^(\w+)(!?=)(.*)$/);
    if (!m) { return true; }
    var value = valueOf(m[1]);
    var same;
    if (m[3] === "usual") {
      same = value === "" || USUAL.indexOf(String(parseFloat(value))) !== -1;
    } else if (m[3] === "0") {
      same = value === "" || parseFloat(value) === 0;
    } else {
      same = value === m[3];
    }
    return m[2] === "=" ? same : !same;
  }

  function update() {
    form.querySelectorAll("[data-applies-when]").forEach(function (cell) {
      var own = cell.querySelector("input, select, textarea");
      var rule = cell.dataset.appliesWhen;
      var typed = own && ["", "0"].indexOf(own.value.trim()) === -1;
      var keep = cell.querySelector(".is-invalid") || (typed && /!=(usual|0)$/.test(rule));
      cell.hidden = !(keep || holds(rule));
    });
  }

  form.addEventListener("change", update);
  form.addEventListener("input", update);
})();
