"""Issue 4 end to end in headless Chromium: a submitted case is routed to the physician
who takes knees; they start the review and ask the patient a question; the patient
answers on their intake page, on a phone; the physician marks the case a PRP
candidate; the front desk finds it on its 'To schedule' list.

The queue, the case page, the patient's page and the front desk's list are checked
with axe-core and for sideways scrolling, at 1280 and 375 px (the patient's page at
375 px only); every problem is collected and reported at the end, so one bad page does
not hide the rest of the journey (see tests/browser/journey.py, also for screenshots)."""

import re

import pytest
from playwright.sync_api import Page, expect

from intake import services
from intake.models import Case
from intake.routing import case_route
from tests.browser.journey import DESKTOP, PHONE, inspect, log_in
from tests.factories import intake_ready_to_sign, signature_for

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

QUESTION = "Does the knee swell after you walk, and does it ever lock or give way?"
ANSWER = "It swells a little after long walks. It has never locked or given way."


def success_message(tab: Page, text: str) -> None:
    expect(tab.get_by_role("alert").filter(has_text=text)).to_be_visible()


def test_physician_asks_patient_answers_and_front_desk_gets_the_consultation(
    new_context, live_server, patient, physician, front_desk, axe_violations
):
    problems: dict[str, list[str]] = {}
    # A submitted knee intake, routed (as on commit) to the physician who takes knees.
    assert physician.physician_profile.body_regions.filter(slug="knee").exists()
    intake = intake_ready_to_sign(patient)
    case = services.intake_submit(intake=intake, signature=signature_for(intake))
    case = case_route(case_id=case.pk)  # a no-op if the on-commit task already ran
    assert case.assigned_to_id == physician.pk
    assert case.state == Case.State.SUBMITTED
    reference = case.reference
    case_url = f"{live_server.url}/review/cases/{case.public_id}/"

    # The physician finds the case in "My cases".
    doctor = new_context(viewport=DESKTOP).new_page()
    doctor.set_default_timeout(10_000)
    log_in(doctor, live_server.url, physician.email)
    expect(doctor).to_have_url(f"{live_server.url}/review/")
    expect(doctor.get_by_role("heading", level=1)).to_have_text("Review queue")
    expect(doctor.get_by_role("link", name=re.compile(r"^My cases"))).to_have_attribute(
        "aria-current", "page"
    )
    row = (
        doctor.get_by_role("table", name="Cases in your queue")
        .get_by_role("row")
        .filter(has_text=reference)
    )
    expect(row).to_contain_text("Not started")
    inspect(doctor, "queue", axe_violations, problems)

    # Opens it, starts the review and asks the patient a question.
    row.get_by_role("link", name=reference).click()
    expect(doctor).to_have_url(case_url)
    expect(doctor.get_by_role("heading", level=1)).to_have_text(
        f"Case {reference}: {intake.legal_name}"
    )
    doctor.get_by_role("button", name="Start review").click()
    success_message(doctor, f"You are reviewing case {reference}.")
    expect(doctor.get_by_role("button", name="Start review")).to_have_count(0)
    ask = doctor.locator("details").filter(
        has=doctor.get_by_text("Ask the patient for more information", exact=True)
    )
    ask.get_by_text("Ask the patient for more information", exact=True).click()
    expect(ask).to_have_attribute("open", "")
    ask.get_by_label("Question for the patient").fill(QUESTION)
    inspect(doctor, "case-asking", axe_violations, problems)
    ask.get_by_role("button", name="Send the question").click()
    success_message(doctor, f"Your question was sent; case {reference} waits")
    questions = doctor.get_by_role("region", name="Questions to the patient")
    expect(questions).to_contain_text(QUESTION)
    expect(questions).to_contain_text("Waiting for the patient's answer.")
    expect(doctor.get_by_text("Waiting for the patient. The case comes back")).to_be_visible()

    # The patient, on a phone, opens the intake from their home page and answers.
    phone = new_context(viewport=PHONE).new_page()
    phone.set_default_timeout(10_000)
    log_in(phone, live_server.url, patient.email)
    expect(phone).to_have_url(f"{live_server.url}/intake/")
    # The question waiting for them comes first on their home page, with its button.
    phone.get_by_role("link", name="Answer your physician").click()
    expect(phone).to_have_url(re.compile(rf"^{live_server.url}/intake/{intake.public_id}/#req-"))
    expect(phone.get_by_text("Status: More information needed")).to_be_visible()
    doctor_name = physician.physician_profile.display_name
    asked = phone.get_by_role("region", name=re.compile(rf"^Question from {doctor_name}"))
    expect(asked).to_contain_text(QUESTION)
    inspect(phone, "patient-question", axe_violations, problems, widths=(PHONE,))
    asked.get_by_label("Your answer").fill(ANSWER)
    asked.get_by_role("button", name="Send my answer").click()
    success_message(phone, "Thank you; your physician has your answer.")
    expect(asked).to_contain_text("Your answer (")
    expect(asked).to_contain_text(ANSWER)
    expect(asked.get_by_role("button", name="Send my answer")).to_have_count(0)

    # The physician reloads: the answer is there and the case is back under review.
    doctor.reload()
    expect(questions).to_contain_text(ANSWER)
    expect(doctor.get_by_text(re.compile(r"^Patient answered \d"))).to_be_visible()
    expect(doctor.get_by_text("Under review", exact=True)).to_be_visible()

    # Marks the case a candidate for PRP, keeping the defaults.
    candidate = doctor.locator("details").filter(
        has=doctor.get_by_text("Candidate: book a consultation", exact=True)
    )
    candidate.get_by_text("Candidate: book a consultation", exact=True).click()
    expect(candidate).to_have_attribute("open", "")
    candidate.get_by_role("checkbox", name=re.compile(r"^Platelet-rich plasma")).check()
    inspect(doctor, "case", axe_violations, problems)
    candidate.get_by_role("button", name="Mark as a candidate").click()
    success_message(doctor, f"Case {reference} is on the front desk's list to book")
    expect(doctor.get_by_text("Consultation to book", exact=True)).to_be_visible()
    expect(
        doctor.get_by_text("Waiting for the front desk to book the consultation.")
    ).to_be_visible()
    case.refresh_from_db()
    assert case.state == Case.State.CONSULT_REQUESTED
    assert list(case.decisions.values_list("options__slug", flat=True)) == ["prp"]

    # The front desk sees it on its "To schedule" list.
    desk = new_context(viewport=DESKTOP).new_page()
    desk.set_default_timeout(10_000)
    log_in(desk, live_server.url, front_desk.email)
    expect(desk).to_have_url(f"{live_server.url}/frontdesk/")
    expect(desk.get_by_role("heading", level=2, name="To schedule")).to_be_visible()
    booking = desk.locator("table.to-schedule").get_by_role("row").filter(has_text=reference)
    expect(booking).to_have_count(1)
    expect(booking).to_contain_text(intake.legal_name)
    expect(booking).to_contain_text(physician.physician_profile.display_name)
    inspect(desk, "frontdesk", axe_violations, problems)

    assert problems == {}, "\n".join(f"{page}: {found}" for page, found in problems.items())
