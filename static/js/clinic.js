// Required fields carry the `required` attribute, which screen readers announce; the
// visual asterisk would otherwise be read out as "star" in every field's name.
document.querySelectorAll(".asteriskField").forEach((mark) => mark.setAttribute("aria-hidden", "true"));

// "Print" buttons on printable views (no inline script: the CSP forbids it).
document.querySelectorAll("[data-print]").forEach((button) =>
  button.addEventListener("click", () => window.print()),
);
