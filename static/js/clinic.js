// Required fields carry the `required` attribute, which screen readers announce; the
// visual asterisk would otherwise be read out as "star" in every field's name.
document.querySelectorAll(".asteriskField").forEach((mark) => mark.setAttribute("aria-hidden", "true"));

// "Print" buttons on printable views (no inline script: the CSP forbids it).
document.querySelectorAll("[data-print]").forEach((button) =>
  button.addEventListener("click", () => window.print()),
);

// The sign-out warning: shown shortly before the session's idle limit, with a
// button that keeps it open. Before warning or leaving, it asks the server how long
// is left (another tab may have kept the session open); asking is not activity.
const sessionWarning = document.getElementById("session-warning");
if (sessionWarning) {
  const data = sessionWarning.dataset;
  const warnAt = Number(data.warningSeconds) * 1000;
  const countdown = sessionWarning.querySelector("[data-countdown]");
  const form = sessionWarning.querySelector("form");
  let deadline = Date.now() + Number(data.secondsLeft) * 1000;
  let checking = false;
  let checkedForThisDeadline = false;

  const check = async (keepOpen) => {
    checking = true;
    try {
      const response = await fetch(data.statusUrl, {
        method: keepOpen ? "POST" : "GET",
        body: keepOpen ? new FormData(form) : undefined,
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      const state = await response.json();
      if (!state.signed_in) {
        window.location.assign(data.loginUrl);
        return;
      }
      const newDeadline = Date.now() + state.seconds_left * 1000;
      checkedForThisDeadline = newDeadline - deadline < 1000;
      deadline = newDeadline;
    } catch {
      // Offline for a moment: try again on the next tick.
    } finally {
      checking = false;
    }
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    await check(true);
    sessionWarning.classList.add("d-none");
  });

  setInterval(() => {
    const left = deadline - Date.now();
    if (checking) return;
    if (left <= warnAt && !checkedForThisDeadline) {
      check(false);
      return;
    }
    if (left <= 0) {
      check(false);
      return;
    }
    if (left <= warnAt) {
      const seconds = Math.ceil(left / 1000);
      countdown.textContent = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, "0")}`;
      sessionWarning.classList.remove("d-none");
    } else {
      sessionWarning.classList.add("d-none");
    }
  }, 1000);
}

// After a refused form, focus goes to the list of what to fix (it is announced as an
// alert), and each link in it puts the focus in its field, not only the scroll.
const errorSummary = document.querySelector("[data-error-summary]");
if (errorSummary) {
  errorSummary.focus();
  errorSummary.querySelectorAll("a[href^='#']").forEach((link) =>
    link.addEventListener("click", (event) => {
      const field = document.getElementById(link.hash.slice(1));
      if (!field) return;
      event.preventDefault();
      const box = field.closest("fieldset, .mb-3") || field;
      box.scrollIntoView({ block: "start" });
      field.focus({ preventScroll: true });
    }),
  );
}
