// The workbench's one script (no inline scripts are allowed by the page's policy).
// Keyboard shortcuts: an element with data-key="x" is clicked when x is pressed,
// unless the user is typing in a field.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const typing = event.target.closest("input, textarea, select, [contenteditable]");
  if (typing) return;
  const target = document.querySelector(`[data-key="${CSS.escape(event.key)}"]`);
  if (target) {
    event.preventDefault();
    target.focus();
    target.click();
  }
});
