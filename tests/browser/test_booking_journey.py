"""Front-desk scheduling end to end in headless Chromium: the front desk books a
consultation for a case on its 'To schedule' list, and the patient sees it on their
page; a second front-desk tab that still shows the same time is told it was just taken.

The front desk's list, the booking page, the consultation page and the patient's page
are checked with axe-core and for sideways scrolling at 1280 and 375 px; every problem
is collected and reported at the end, so one bad page does not hide the rest of the
journey (see tests/browser/journey.py, also for screenshots)."""

import re
from datetime import datetime

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.roles import Role
from intake.models import Case, Consultation
from tests.browser.journey import DESKTOP, inspect, log_in
from tests.factories import UserFactory, case_to_book, working_hours

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def long_date(moment: datetime) -> str:
    """'Monday 23 November 2026', in the clinic's time zone (Django's "l j F Y")."""
    local = timezone.localtime(moment)
    return f"{local:%A} {local.day} {local:%B %Y}"


def open_booking(tab: Page, base_url: str, reference: str) -> None:
    """From the front desk's home page, the 'Book' link on the case's row."""
    tab.goto(f"{base_url}/frontdesk/")
    row = tab.locator("table.to-schedule").get_by_role("row").filter(has_text=reference)
    row.get_by_role("link", name=f"Book {reference}").click()
    expect(tab).to_have_url(re.compile(r"/frontdesk/cases/[0-9a-f-]+/book/$"))


def suggested_times(tab: Page):
    return tab.locator("fieldset").first.get_by_role("radio")


def test_front_desk_books_a_consultation_and_the_patient_sees_it(
    new_context, live_server, physician, front_desk, axe_violations, settings
):
    problems: dict[str, list[str]] = {}
    settings.CLINIC_ADDRESS = "120 Main Street, Springfield, NJ 07081"
    working_hours(physician.physician_profile, weekdays=range(7))
    patient = UserFactory.create(role=Role.PATIENT, full_name="Pat Patient")
    case = case_to_book(physician, patient=patient)
    reference = case.reference
    legal_name = case.intake.legal_name
    doctor_name = physician.physician_profile.display_name

    # The front desk logs in and finds the case on its "To schedule" list.
    desk = new_context(viewport=DESKTOP).new_page()
    desk.set_default_timeout(10_000)
    log_in(desk, live_server.url, front_desk.email)
    expect(desk).to_have_url(f"{live_server.url}/frontdesk/")
    expect(desk.get_by_role("heading", level=2, name="To schedule")).to_be_visible()
    row = desk.locator("table.to-schedule").get_by_role("row").filter(has_text=reference)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(legal_name)
    expect(row).to_contain_text(doctor_name)
    inspect(desk, "frontdesk-home", axe_violations, problems)

    # Opens the booking page: free times, the patient's preferred ones suggested first.
    row.get_by_role("link", name=f"Book {reference}").click()
    expect(desk).to_have_url(f"{live_server.url}/frontdesk/cases/{case.public_id}/book/")
    expect(desk.get_by_role("heading", level=1)).to_have_text(
        f"Book a consultation for {legal_name}"
    )
    expect(desk.get_by_text(doctor_name, exact=True)).to_be_visible()
    suggested = suggested_times(desk)
    expect(suggested.first).to_be_visible()
    assert desk.locator("input[name=starts_at]").count() > suggested.count()
    expect(
        desk.get_by_role("heading", level=2, name=re.compile(r"^All free times"))
    ).to_be_visible()
    inspect(desk, "book-page", axe_violations, problems)

    # Picks the first suggested time and books it.
    first = suggested.first
    chosen = first.get_attribute("value")
    assert chosen is not None
    first.check()
    desk.get_by_role("button", name="Book the selected time").click()
    expect(desk).to_have_url(
        re.compile(rf"^{live_server.url}/frontdesk/consultations/[0-9a-f-]+/$")
    )
    expect(
        desk.get_by_role("alert").filter(has_text=f"Booked {legal_name} with {doctor_name}")
    ).to_be_visible()
    # Check-in is offered on the consultation's day only.
    booked_day = datetime.fromisoformat(chosen).astimezone(timezone.get_current_timezone())
    check_in = desk.get_by_role("button", name="Check in")
    if booked_day.date() == timezone.localdate():
        expect(check_in).to_be_visible()
    else:
        expect(check_in).to_have_count(0)
        expect(desk.get_by_text("Check-in opens on the day")).to_be_visible()
    inspect(desk, "consultation-booked", axe_violations, problems)

    # One booked consultation at that time; the case is booked.
    consultation = Consultation.objects.get(case=case)
    assert consultation.state == Consultation.State.BOOKED
    assert consultation.starts_at == datetime.fromisoformat(chosen)
    assert consultation.physician_id == physician.pk
    assert consultation.patient_id == patient.pk
    assert consultation.booked_by_id == front_desk.pk
    case.refresh_from_db()
    assert case.state == Case.State.BOOKED
    assert desk.url == f"{live_server.url}/frontdesk/consultations/{consultation.public_id}/"

    # The front desk logs out; the patient logs in and sees the consultation.
    desk.get_by_role("button", name="Log out").click()
    expect(desk).to_have_url(f"{live_server.url}/")
    log_in(desk, live_server.url, patient.email)
    expect(desk).to_have_url(f"{live_server.url}/intake/")
    mine = desk.get_by_role("region", name="Your consultations")
    expect(mine).to_be_visible()
    expect(mine).to_contain_text(long_date(consultation.starts_at))
    expect(mine).to_contain_text(f"{timezone.localtime(consultation.starts_at):%H:%M}")
    expect(mine).to_contain_text(doctor_name)
    calendar = mine.get_by_role("link", name="Add to my calendar")
    expect(calendar).to_be_visible()
    expect(calendar).to_have_attribute(
        "href", f"/intake/consultations/{consultation.public_id}/calendar.ics"
    )
    inspect(desk, "patient-home", axe_violations, problems)

    # The case's own page shows the booked time too, not "we will contact you".
    desk.goto(f"{live_server.url}/intake/{case.intake.public_id}/")
    booked = desk.get_by_role("region", name="Your consultation is booked")
    expect(booked).to_contain_text(long_date(consultation.starts_at))
    expect(booked).to_contain_text(doctor_name)
    expect(booked).to_contain_text("120 Main Street, Springfield, NJ 07081")
    expect(desk.get_by_text("will contact you to book it")).to_have_count(0)
    inspect(desk, "patient-case-booked", axe_violations, problems)

    assert problems == {}, "\n".join(f"{page}: {found}" for page, found in problems.items())


def test_a_second_tab_is_told_the_time_was_just_taken(
    new_context, live_server, physician, front_desk, other_patient, axe_violations
):
    problems: dict[str, list[str]] = {}
    working_hours(physician.physician_profile, weekdays=range(7))
    patient = UserFactory.create(role=Role.PATIENT, full_name="Pat Patient")
    first_case = case_to_book(physician, patient=patient)
    second_case = case_to_book(physician, patient=other_patient)  # same physician, same preferences

    # Two front-desk tabs, each on its own case's booking page, both offering the
    # same earliest suggested time with the same physician.
    first_tab = new_context(viewport=DESKTOP).new_page()
    second_tab = new_context(viewport=DESKTOP).new_page()
    for tab, case in ((first_tab, first_case), (second_tab, second_case)):
        tab.set_default_timeout(10_000)
        log_in(tab, live_server.url, front_desk.email)
        expect(tab).to_have_url(f"{live_server.url}/frontdesk/")
        open_booking(tab, live_server.url, case.reference)
    slot = suggested_times(first_tab).first.get_attribute("value")
    assert slot is not None
    assert suggested_times(second_tab).first.get_attribute("value") == slot

    # The first tab books it.
    suggested_times(first_tab).first.check()
    first_tab.get_by_role("button", name="Book the selected time").click()
    expect(first_tab.get_by_role("alert").filter(has_text="Booked")).to_be_visible()

    # The second tab, still showing the time, submits it: refused with fresh times.
    suggested_times(second_tab).first.check()
    with second_tab.expect_response(lambda r: r.request.method == "POST") as answer:
        second_tab.get_by_role("button", name="Book the selected time").click()
    assert answer.value.status == 409
    expect(second_tab).to_have_url(
        f"{live_server.url}/frontdesk/cases/{second_case.public_id}/book/"
    )
    error = second_tab.get_by_role("alert").filter(has_text="just taken")
    expect(error).to_be_visible()
    expect(error).to_contain_text("That time was just taken")
    expect(suggested_times(second_tab).first).to_be_visible()
    expect(second_tab.locator(f'input[name=starts_at][value="{slot}"]')).to_have_count(0)
    expect(second_tab.get_by_role("button", name="Book the selected time")).to_be_visible()
    inspect(second_tab, "book-page-slot-taken", axe_violations, problems)

    # Only the first case was booked; the second still waits on the list.
    assert list(Consultation.objects.values_list("case_id", flat=True)) == [first_case.pk]
    second_case.refresh_from_db()
    assert second_case.state == Case.State.CONSULT_REQUESTED

    assert problems == {}, "\n".join(f"{page}: {found}" for page, found in problems.items())


def test_a_second_tab_on_the_same_case_is_sent_back_to_the_list(
    new_context, live_server, physician, front_desk
):
    working_hours(physician.physician_profile, weekdays=range(7))
    case = case_to_book(physician)
    first_tab = new_context(viewport=DESKTOP).new_page()
    second_tab = new_context(viewport=DESKTOP).new_page()
    for tab in (first_tab, second_tab):
        tab.set_default_timeout(10_000)
        log_in(tab, live_server.url, front_desk.email)
        expect(tab).to_have_url(f"{live_server.url}/frontdesk/")
        open_booking(tab, live_server.url, case.reference)

    suggested_times(first_tab).first.check()
    first_tab.get_by_role("button", name="Book the selected time").click()
    expect(first_tab.get_by_role("alert").filter(has_text="Booked")).to_be_visible()

    # The case is booked now: the second tab is told so on the list, not booked twice.
    suggested_times(second_tab).nth(1).check()
    second_tab.get_by_role("button", name="Book the selected time").click()
    expect(second_tab).to_have_url(f"{live_server.url}/frontdesk/")
    expect(
        second_tab.get_by_role("alert").filter(
            has_text=f"Case {case.reference} is not waiting for a booking"
        )
    ).to_be_visible()
    expect(
        second_tab.locator("table.to-schedule").get_by_role("row").filter(has_text=case.reference)
    ).to_have_count(0)
    assert Consultation.objects.filter(case=case).count() == 1
