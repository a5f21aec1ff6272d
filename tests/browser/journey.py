"""What the journey tests share: logging in, and checking a page with axe-core and for
sideways scrolling at desktop and phone widths, collecting problems so one bad page
does not hide the rest of the journey. Set JOURNEY_SHOTS (e.g. JOURNEY_SHOTS=1) to
also save a full-page screenshot at each width in /tmp/journey-shots, or set it to a
folder path to save them there."""

import os
import tempfile
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, ViewportSize

from tests.factories import PASSWORD

PHONE = ViewportSize(width=375, height=812)
DESKTOP = ViewportSize(width=1280, height=900)


def shots_folder() -> Path | None:
    value = os.environ.get("JOURNEY_SHOTS", "")
    if not value:
        return None
    return Path(value) if os.sep in value else Path(tempfile.gettempdir()) / "journey-shots"


def inspect(
    tab: Page,
    name: str,
    axe_violations: Any,
    problems: dict[str, list[str]],
    widths: tuple[ViewportSize, ...] = (DESKTOP, PHONE),
) -> None:
    """Runs axe-core and measures sideways scrolling at each width, noting what is
    wrong in ``problems`` (and saving screenshots when asked). Puts the tab back at
    the width it had."""
    before = tab.viewport_size
    shots = shots_folder()
    for size in widths:
        width = size["width"]
        tab.set_viewport_size(size)
        found = list(axe_violations(tab))
        scroll_width = tab.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            found.append(f"the page is {scroll_width} px wide")
        if found:
            problems[f"{name} at {width} px"] = found
        if shots is not None:
            shots.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(shots / f"{name}-{width}.png"), full_page=True)
    if before is not None:
        tab.set_viewport_size(before)


def log_in(tab: Page, base_url: str, email: str) -> None:
    tab.goto(f"{base_url}/accounts/login/")
    tab.get_by_label("E-mail address").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    tab.get_by_role("button", name="Log in").click()
