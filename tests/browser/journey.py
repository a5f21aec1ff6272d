"""What the journey tests share: logging in (staff with their second factor, as their
authenticator app would give it), and checking a page with axe-core and for sideways
scrolling at desktop and phone widths, collecting problems so one bad page does not
hide the rest of the journey. Set JOURNEY_SHOTS (e.g. JOURNEY_SHOTS=1) to also save a
full-page screenshot at each width in /tmp/journey-shots, or set it to a folder path
to save them there."""

import base64
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, ViewportSize, expect

from clinic.models import User
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


SETUP_PATH = "/accounts/two-factor/setup/"
VERIFY_PATH = "/accounts/two-factor/"
RECOVERY_PATH = "/accounts/two-factor/recovery/"


def log_in(tab: Page, base_url: str, email: str) -> None:
    """Logs in through the login page. Staff then give their second factor: the code
    of the authenticator they have, or, the first time, they set one up from the key
    the page shows and go on past their recovery codes."""
    log_in_with_password(tab, base_url, email)
    path = urlsplit(tab.url).path
    if path == VERIFY_PATH:
        submit_code(tab, "Continue", authenticator_code(email))
    elif path == SETUP_PATH:
        submit_code(tab, "Confirm and continue", setup_code(tab, email))
        expect(tab).to_have_url(re.compile(rf"^{re.escape(base_url + RECOVERY_PATH)}(\?|$)"))
        with tab.expect_navigation():
            tab.get_by_role("link", name="Continue").click()


def log_in_with_password(tab: Page, base_url: str, email: str) -> None:
    """The login page alone; the tab is left wherever the server sent it."""
    tab.goto(f"{base_url}/accounts/login/")
    tab.get_by_label("E-mail address").fill(email)
    tab.get_by_label("Password").fill(PASSWORD)
    with tab.expect_navigation():
        tab.get_by_role("button", name="Log in").click()


def submit_code(tab: Page, button: str, code: str) -> None:
    tab.get_by_label("Code").fill(code)
    with tab.expect_navigation():
        tab.get_by_role("button", name=button).click()


def setup_code(tab: Page, email: str) -> str:
    """The first code of the authenticator being set up, from the key the setup page
    shows in ``#totp-secret`` (what a person would type into their app), not the
    database's copy: a wrong key on the page makes this code fail."""
    device = TOTPDevice.objects.get(user=_user(email), confirmed=False)
    shown = "".join(tab.locator("#totp-secret").inner_text().split()).upper()
    key = base64.b32decode(shown + "=" * (-len(shown) % 8))
    totp = TOTP(key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    return _token(totp, device.digits)


def authenticator_code(email: str) -> str:
    """The code the person's confirmed authenticator gives, as the server will accept
    it now.

    A code works once (the device keeps the step of the last one it accepted), so a
    second login within the same 30 s would be refused. The server also accepts the
    next step's code (``tolerance``, for a phone whose clock runs a little fast), so
    then that one is given; should that be used as well, this waits for a new step."""
    user = _user(email)
    while True:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
        totp.time = time.time()  # one moment for both the step and the code
        now = totp.t()
        for step in range(now, now + device.tolerance + 1):
            if step > device.last_t:
                totp.drift += step - now
                return _token(totp, device.digits)
        time.sleep(device.step - (time.time() - device.t0) % device.step + 0.1)


def _token(totp: TOTP, digits: int) -> str:
    return str(totp.token()).zfill(digits)


def _user(email: str) -> User:
    return User.objects.get(email__iexact=email)
