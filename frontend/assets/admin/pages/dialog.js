// A modal question in a <dialog>: resolves true when the confirming
// button is pressed, false on Cancel or Escape. The dialog is removed
// once answered, and the focus returns to where it was.
import { el } from "../../shared/dom.js";

export function askToConfirm(t, { title, body, confirmLabel, danger = false, blocked = null }) {
  const returnFocus = document.activeElement;
  const titleId = "dialog-title";
  const confirm = el("button", {
    type: "submit", value: "yes", id: "dialog-confirm",
    class: danger ? "primary danger" : "primary", text: confirmLabel,
  });
  confirm.disabled = Boolean(blocked);
  const dialog = el("dialog", { class: "confirm", "aria-labelledby": titleId }, [
    el("form", { method: "dialog" }, [
      el("h2", { id: titleId, text: title }),
      ...body,
      blocked ? el("p", { class: "error", role: "alert", text: blocked }) : "",
      el("div", { class: "dialog-actions" }, [
        el("button", { type: "submit", value: "no", id: "dialog-cancel", text: t("cancel") }),
        confirm,
      ]),
    ]),
  ]);
  dialog.addEventListener("keydown", (event) => keepTabInside(dialog, event));
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      dialog.remove();
      returnFocus?.focus?.();
      resolve(dialog.returnValue === "yes");
    });
    dialog.showModal();
    dialog.querySelector("#dialog-cancel").focus();
  });
}

// A modal dialog makes the page behind it inert, but Tab from its last
// button still leaves it, out of the page (to the browser's address bar);
// round the focus back to the first, and Shift+Tab from the first to the
// last.
function keepTabInside(dialog, event) {
  if (event.key !== "Tab") return;
  const stops = [...dialog.querySelectorAll("button, input, select, textarea, a[href]")]
    .filter((node) => !node.disabled && node.checkVisibility());
  if (!stops.length) return;
  const [first, last] = [stops[0], stops.at(-1)];
  const edge = event.shiftKey ? first : last;
  if (document.activeElement !== edge) return;
  event.preventDefault();
  (event.shiftKey ? last : first).focus();
}
