() => {
  // Every visible control a finger may aim at, smaller than 44 x 44 px. The skip link is 1 px
  // until it has focus; a checkbox or radio counts with its label (a tap on either toggles it).
  const small = [];
  const controls = "a[href], button, input:not([type=hidden]), select, textarea, summary";
  for (const el of document.querySelectorAll(controls)) {
    if (el.closest(".skip-link, [hidden]") || el.offsetParent === null) continue;
    let box = el.getBoundingClientRect();
    if (el.matches("input[type=checkbox], input[type=radio]")) {
      const holder = el.closest(".form-check") || (el.labels && el.labels[0]);
      if (holder) box = holder.getBoundingClientRect();
    }
    if (box.width < 43.5 || box.height < 43.5) {
      const words = (el.innerText || el.value || el.name || "").trim().slice(0, 40);
      small.push(`${el.tagName.toLowerCase()} "${words}" ${Math.round(box.width)}x${Math.round(box.height)}`);
    }
  }
  return small;
}
