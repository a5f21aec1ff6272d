"""The patient's pages in Chromium: where the focus goes after a refused step, the
order the step's buttons are tabbed through, and the pages changed for issue 17 at
375 and 1280 px (axe-core, no sideways scrolling). Set PAGES_SHOTS to a folder to
save a full-page screenshot of each at both widths."""

import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from playwright.sync_api import Page, ViewportSize, expect

from clinic.models import User
from clinic.roles import Role
from clinic.tokens import email_verification_tokens
from intake import cases
from intake.models import Intake
from tests.factories import PASSWORD, PhysicianFactory, UserFactory, submitted_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = ViewportSize(width=375, height=812)
DESKTOP = ViewportSize(width=1280, height=900)
SHOTS = os.environ.get("PAGES_SHOTS", "")


def log_in(page: Page, base_url: str, user: User) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("E-mail address").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()


def looked_at(page: Page, axe_violations, name: str) -> None:
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        assert axe_violations(page) == [], (name, size["width"])
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= size["width"], (name, width)
        if SHOTS:
            Path(SHOTS).mkdir(parents=True, exist_ok=True)
            page.screenshot(path=f"{SHOTS}/{name}-{size['width']}.png", full_page=True)
    page.set_viewport_size(PHONE)


@pytest.fixture
def patient(db: None) -> User:
    return UserFactory.create(role=Role.PATIENT, full_name="Pat Patient")


def test_a_refused_step_focuses_its_error_summary_and_its_links_focus_the_field(
    page: Page, live_server, patient
):
    page.set_default_timeout(10_000)
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, patient)
    page.get_by_role("button", name="Start my intake").click()
    page.get_by_label("Mobile or home phone").fill("555-12")
    page.get_by_role("button", name="Save and continue").click()

    summary = page.locator("#error-summary")
    expect(summary).to_be_focused()
    expect(page.get_by_label("Mobile or home phone")).to_have_value("555-12")
    summary.get_by_role("link", name="Mobile or home phone").click()
    expect(page.get_by_label("Mobile or home phone")).to_be_focused()


def test_the_step_buttons_are_tabbed_through_in_the_order_they_are_shown(
    page: Page, live_server, patient
):
    page.set_default_timeout(10_000)
    log_in(page, live_server.url, patient)
    page.get_by_role("button", name="Start my intake").click()
    intake = Intake.objects.get(patient=patient)
    page.goto(live_server.url + reverse("intake:step", args=[intake.public_id, 2]))
    for size in (PHONE, DESKTOP):
        page.set_viewport_size(size)
        back = page.get_by_role("button", name="Back", exact=True)
        later = page.get_by_role("button", name="Save and finish later")
        main = page.get_by_role("button", name="Save and continue")
        back.focus()
        page.keyboard.press("Tab")
        expect(later).to_be_focused()
        page.keyboard.press("Tab")
        expect(main).to_be_focused()
        shown, before = main.bounding_box(), (back if size == PHONE else later).bounding_box()
        assert shown is not None and before is not None
        if size == PHONE:  # shown under Back and Later, across the width
            assert shown["y"] > before["y"]
        else:  # on the right of the same line
            assert shown["x"] > before["x"]


def test_the_changed_pages_at_both_widths(page: Page, live_server, patient, axe_violations):
    page.set_default_timeout(10_000)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/")
    looked_at(page, axe_violations, "home")

    uid = urlsafe_base64_encode(force_bytes(patient.pk))
    token = email_verification_tokens.make_token(patient)
    page.goto(live_server.url + reverse("verify_email", args=[uid, token]))
    expect(page.get_by_text(patient.email)).to_be_visible()
    looked_at(page, axe_violations, "confirm-email")

    physician = PhysicianFactory.create(regions=["knee", "hip"]).user
    earlier = submitted_case(patient)
    case = submitted_case(patient)
    cases.case_claim(case=case, physician=physician)
    cases.case_request_information(
        case=case, physician=physician, question="Does the knee swell after a long walk?"
    )
    log_in(page, live_server.url, patient)
    expect(page.get_by_role("link", name="Answer your physician")).to_be_visible()
    looked_at(page, axe_violations, "patient-home")
    page.get_by_role("link", name="Answer your physician").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(case.reference)
    looked_at(page, axe_violations, "patient-case")
    assert earlier.reference not in page.content()

    page.goto(live_server.url + reverse("intake:home"))
    page.get_by_role("button", name="Start a new intake").click()
    draft = Intake.objects.get(patient=patient, status=Intake.Status.DRAFT)
    page.goto(live_server.url + reverse("intake:step", args=[draft.public_id, 2]))
    looked_at(page, axe_violations, "step-2")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.locator("#error-summary")).to_be_focused()
    looked_at(page, axe_violations, "step-2-errors")
    for number in (3, 4, 5, 6, 7):
        page.goto(live_server.url + reverse("intake:step", args=[draft.public_id, number]))
        looked_at(page, axe_violations, f"step-{number}")


def test_a_spanish_estimate_at_both_widths(page: Page, live_server, patient, axe_violations):
    """The Good Faith Estimate issued in Spanish (longer words, the charges table
    stacked on a phone): axe-clean, nothing off-screen sideways."""
    from tests.care.helpers import billing_provider, latest_estimate, shared_plan
    from tests.factories import case_to_book

    patient.language = "es"
    patient.save(update_fields=["language"])
    physician = PhysicianFactory.create(regions=["knee", "hip"]).user
    billing_provider()
    case = case_to_book(physician, patient=patient)
    shared_plan(case, physician, "bone-marrow-stem-cells", harvest_source="bone_marrow")
    estimate = latest_estimate(case)
    page.set_default_timeout(10_000)
    page.set_viewport_size(PHONE)
    log_in(page, live_server.url, patient)
    page.goto(live_server.url + reverse("care:estimate", args=[estimate.public_id]))
    expect(page.get_by_role("heading", level=1)).to_have_text("Estimación de buena fe")
    expect(page.get_by_text("Aspiración de médula ósea")).to_be_visible()
    looked_at(page, axe_violations, "estimate-es")
