"""A new patient finds 'Start your intake' on a phone and gets to their own page."""

import pytest
from playwright.sync_api import Page, expect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_new_patient_signs_up_on_a_phone(page: Page, live_server):
    page.set_viewport_size({"width": 375, "height": 812})
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Start your intake").click()
    page.get_by_label("Your full name").fill("Nora New")
    page.get_by_label("E-mail address").fill("nora@clinic.example")
    page.get_by_label("Choose a password").fill("knee-pain-since-2019")
    page.get_by_label("The same password again").fill("knee-pain-since-2O19")
    page.get_by_role("button", name="Create my account").click()

    expect(page.get_by_role("alert")).to_contain_text("Please correct the 1 field")
    expect(page.get_by_label("Your full name")).to_have_value("Nora New")
    expect(page.get_by_label("E-mail address")).to_have_value("nora@clinic.example")

    page.get_by_label("Choose a password").fill("knee-pain-since-2019")
    page.get_by_label("The same password again").fill("knee-pain-since-2019")
    page.get_by_role("button", name="Create my account").click()

    expect(page).to_have_url(f"{live_server.url}/intake/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, Nora")
    expect(page.get_by_text("Please confirm your e-mail address")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
