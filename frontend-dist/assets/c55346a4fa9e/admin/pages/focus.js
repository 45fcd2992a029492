// Lists that are drawn anew (a poll, the refresh after an action) would
// drop the keyboard's focus on the page body: these put it back on the
// same control in the new drawing.

// Run `redraw`, which replaces what `container` holds, and focus again the
// element with the focused one's id, or else the control with the same
// `data-action` in the row with the same `data-id` (or that row itself).
export function redrawKeepingFocus(container, redraw) {
  const focused = document.activeElement;
  if (!container.contains(focused)) {
    redraw();
    return;
  }
  const { id } = focused;
  const rowId = focused.closest("[data-id]")?.dataset.id;
  const action = focused.dataset.action;
  redraw();
  const row = rowId == null ? null : container.querySelector(`[data-id="${CSS.escape(rowId)}"]`);
  const again = id
    ? document.getElementById(id)
    : action ? row?.querySelector(`[data-action="${CSS.escape(action)}"]`) : row;
  again?.focus();
}
