// Behaviour the pages need without inline script (the Content-Security-Policy forbids it):
// a control marked `data-autosubmit` submits its form when it changes.
document.querySelectorAll("[data-autosubmit]").forEach((control) => {
  control.addEventListener("change", () => { if (control.form) control.form.submit(); });
});
