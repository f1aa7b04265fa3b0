// The console's own script (no inline script anywhere: CSP script-src 'self').
// - Copy buttons: [data-copy=<id>] copies the text of #<id>.
// - Disclosure buttons: aria-expanded toggles the row named by aria-controls.
// - The policy builder: remembers whether the form or the JSON was edited last, so "Review" sends
//   what the operator was working on.

document.addEventListener("click", async (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const copy = target?.closest("button[data-copy]");
  if (copy) {
    const source = document.getElementById(copy.getAttribute("data-copy"));
    if (!source) return;
    const text = source.textContent;
    try {
      await navigator.clipboard.writeText(text);
    } catch {
      // No clipboard permission: select the text so Ctrl/Cmd-C works.
      const range = document.createRange();
      range.selectNodeContents(source);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    copy.classList.add("copied");
    copy.textContent = "Copied";
    setTimeout(() => {
      copy.classList.remove("copied");
      copy.textContent = "Copy";
    }, 2000);
    return;
  }
  const disclosure = target?.closest("button.disclosure[aria-controls]");
  if (disclosure) {
    const row = document.getElementById(disclosure.getAttribute("aria-controls"));
    if (!row) return;
    const open = disclosure.getAttribute("aria-expanded") !== "true";
    disclosure.setAttribute("aria-expanded", String(open));
    row.hidden = !open;
  }
});

document.addEventListener("input", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const source = document.getElementById("builder-source");
  if (!source || !target) return;
  if (target.id === "policy-json") source.value = "json";
  else if (target.closest("#builder-fields")) source.value = "form";
});

// A form edit's JSON answer can arrive after the operator has moved on to typing in the JSON pane:
// never overwrite what they are typing.
document.addEventListener("htmx:beforeSwap", (event) => {
  const target = event.detail?.target;
  const source = document.getElementById("builder-source");
  const typing = document.activeElement && document.activeElement.id === "policy-json";
  if (target && target.id === "json-pane" && typing && source && source.value === "json") event.detail.shouldSwap = false;
});
