"""Each role logs in through the real login page in headless Chromium (staff, the
first time, also set up their authenticator app)."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.journey import setup_code, submit_code
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LANDING = {
    "patient": ("/intake/", "Welcome"),
    "physician": ("/review/", "Review queue"),
    "front_desk": ("/frontdesk/", "Front desk"),
    "clinic_admin": ("/admin/", "Site administration"),
}


@pytest.mark.parametrize("persona", list(LANDING))
def test_each_role_logs_in_and_lands_on_its_home_page(
    page: Page, live_server, request, persona, axe_violations
):
    user = request.getfixturevalue(persona)
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Log in").first.click()
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    if persona != "patient":  # staff give their second factor; see journey.log_in
        expect(page).to_have_url(re.compile(r"/accounts/two-factor/setup/"))
        submit_code(page, "Confirm and continue", setup_code(page, user.email))
        page.get_by_role("link", name="Continue").click()
    path, heading = LANDING[persona]
    expect(page).to_have_url(f"{live_server.url}{path}")
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)
    if persona != "clinic_admin":  # Django's own admin pages are not ours to fix
        assert axe_violations(page) == []


PUBLIC_PAGES = [
    "/",
    "/accounts/login/",
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/intake/start/",
    "/no-such-page/",
]


@pytest.mark.parametrize("width", [375, 1280])
def test_public_pages_have_no_serious_accessibility_violations(
    page: Page, live_server, axe_violations, width
):
    page.set_viewport_size({"width": width, "height": 900})
    for path in PUBLIC_PAGES:
        page.goto(f"{live_server.url}{path}")
        assert axe_violations(page) == [], path
        assert page.evaluate("document.documentElement.scrollWidth") <= width, path


def test_home_page_fits_a_phone(page: Page, live_server):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/")
    expect(page.get_by_role("link", name="Start your intake")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375
