// Progressive enhancement for the intake: shows only the height and weight fields of
// the chosen units. Without JavaScript both sets stay visible and the server uses
// the ones that match the chosen units.
document.querySelectorAll("[data-units]").forEach((group) => {
  const show = () => {
    const chosen = group.querySelector("input[name$='unit_system']:checked");
    group.querySelectorAll("[data-unit]").forEach((row) => {
      row.hidden = chosen !== null && row.dataset.unit !== chosen.value;
    });
  };
  group.addEventListener("change", show);
  show();
});
