"""A new patient on a phone: signs up, confirms their e-mail, fills the eight steps
(with a mistake on the way, a log-out in the middle and a real PDF upload), signs and
submits, and gets the confirmation e-mail with their reference.

Every step page is checked with axe-core and for horizontal scrolling at 375 px. Set
INTAKE_SHOTS to a folder (e.g. INTAKE_SHOTS=/tmp/intake-shots) to also save a
full-page screenshot of each page at 375 and 1280 px."""

import io
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import FilePayload, Page, ViewportSize, expect
from pypdf import PdfWriter

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = ViewportSize(width=375, height=812)
DESKTOP = ViewportSize(width=1280, height=900)
NAME = "Nora Quinn New"
EMAIL = "nora@clinic.example"
PASSWORD = "knee-pain-since-2019"
SHOTS = os.environ.get("INTAKE_SHOTS", "")


def a_small_pdf(name: str) -> FilePayload:
    """A real one-page PDF: the server reads the content, not the name."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return FilePayload(name=name, mimeType="application/pdf", buffer=buffer.getvalue())


def printed_email(capsys: pytest.CaptureFixture[str], subject: str) -> str:
    """What the console e-mail backend printed for the e-mail with this subject (the
    live server's thread writes to the sys.stdout that capsys replaced)."""
    out = capsys.readouterr().out
    messages = [m for m in out.split("-" * 79) if f"Subject: {subject}" in m]
    assert messages, f"No e-mail with subject {subject!r} was printed; got:\n{out}"
    return messages[-1]


def check_page(page: Page, axe_violations, name: str) -> None:
    """No serious axe violation and no sideways scrolling on a phone."""
    assert axe_violations(page) == [], name
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
    if SHOTS:
        folder = Path(SHOTS)
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}-375.png"), full_page=True)
        page.set_viewport_size(DESKTOP)
        page.screenshot(path=str(folder / f"{name}-1280.png"), full_page=True)
        page.set_viewport_size(PHONE)


def on_step(page: Page, number: int, title: str, axe_violations) -> None:
    expect(page.get_by_text(f"Step {number} of 8", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    check_page(page, axe_violations, f"step-{number}")


def save_and_continue(page: Page) -> None:
    page.get_by_role("button", name="Save and continue").click()


def log_in(page: Page) -> None:
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_new_patient_completes_the_intake_on_a_phone(
    page: Page, live_server, settings, capsys, axe_violations
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
    today = timezone.localdate()
    page.set_default_timeout(10_000)
    page.set_viewport_size(PHONE)

    # Sign up from the home page.
    page.goto(f"{live_server.url}/")
    page.get_by_role("link", name="Start your intake").click()
    page.get_by_label("Your full name").fill(NAME)
    page.get_by_label("E-mail address").fill(EMAIL)
    page.get_by_label("Choose a password").fill(PASSWORD)
    page.get_by_label("The same password again").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(page).to_have_url(f"{live_server.url}/intake/")
    expect(page.get_by_text("Please confirm your e-mail address")).to_be_visible()

    # Confirm the e-mail address with the link the console backend printed.
    verification = printed_email(capsys, "Confirm your e-mail address")
    assert f"To: {EMAIL}" in verification
    link = re.search(r"/accounts/verify/[\w-]+/[\w-]+/", verification)
    assert link is not None, verification
    page.goto(f"{live_server.url}{link.group()}")
    page.get_by_role("button", name="Confirm my e-mail address").click()
    expect(page).to_have_url(f"{live_server.url}/intake/")
    expect(page.get_by_role("alert")).to_contain_text("your e-mail address is confirmed")
    expect(page.get_by_text("Please confirm your e-mail address")).to_have_count(0)

    # Step 1, first with a phone number and a date of birth that cannot be right.
    page.get_by_role("button", name="Start my intake").click()
    on_step(page, 1, "About you", axe_violations)
    expect(page.get_by_label("Full legal name")).to_have_value(NAME)
    page.get_by_label("Date of birth").fill((today + timedelta(days=30)).isoformat())
    page.get_by_label("Sex assigned at birth").select_option(label="Female")
    page.get_by_label("Mobile or home phone").fill("12")
    page.get_by_role("textbox", name="Address", exact=True).fill("12 Harbour Road")
    page.get_by_label("City").fill("Portland")
    page.get_by_label("State or region").fill("OR")
    page.get_by_label("Postal code").fill("97201")
    page.get_by_label("Emergency contact's name").fill("Sam New")
    page.get_by_label("Their relationship to you").fill("Brother")
    page.get_by_label("Their phone").fill("(503) 555-0142")
    page.get_by_label("Metric (cm, kg)").check()
    page.get_by_label("Height (cm)").fill("168")
    page.get_by_label("Weight (kg)").fill("64")
    save_and_continue(page)

    summary = page.get_by_role("alert").filter(has_text="Please check")
    expect(summary).to_contain_text("Please check 2 answers")
    expect(summary).to_be_focused()  # so a keyboard or screen reader starts there
    expect(page.get_by_label("Mobile or home phone")).to_have_value("12")  # as typed
    expect(summary).to_contain_text("The date of birth must be today or earlier.")
    expect(summary).to_contain_text("Enter a phone number we can call")
    expect(page.get_by_label("Mobile or home phone")).to_have_accessible_description(
        re.compile("Enter a phone number we can call")
    )
    expect(page.get_by_label("Date of birth")).to_have_accessible_description(
        re.compile("must be today or earlier")
    )
    expect(page.get_by_label("City")).to_have_value("Portland")
    expect(page.get_by_label("Their phone")).to_have_value("(503) 555-0142")
    expect(page.get_by_label("Height (cm)")).to_have_value("168")
    check_page(page, axe_violations, "step-1-errors")
    page.get_by_label("Date of birth").fill("1968-04-12")
    page.get_by_label("Mobile or home phone").fill("(503) 555-0199")
    save_and_continue(page)

    # Step 2: one painful knee.
    on_step(page, 2, "Your pain", axe_violations)
    page.get_by_label("Where is the pain?").select_option(label="Knee")
    page.get_by_label("Do you know what it is?").select_option(label="Knee osteoarthritis")
    page.get_by_role("group", name="Which side?").get_by_label("Left", exact=True).check()
    started = page.get_by_role("group", name="When did it start? (roughly)")
    started.get_by_label("Month").select_option(label="March")
    started.get_by_label("Year").fill("2019")
    page.get_by_role("group", name="How did it start?").get_by_label(
        "Gradually, no single injury"
    ).check()
    now = page.get_by_role("group", name="Pain right now (0–10)")
    now.get_by_label("5", exact=True).check()
    worst = page.get_by_role("group", name="Worst pain in the last week (0–10)")
    worst.get_by_label("10 (worst imaginable)").click()  # the label is a target too
    expect(worst.get_by_label("10 (worst imaginable)")).to_be_checked()
    worst.get_by_label("7", exact=True).check()
    for box in now.locator("label").all():  # targets of at least 44 by 44 px
        size = box.bounding_box()
        assert size is not None and size["width"] >= 44 and size["height"] >= 44, size
    rows = {round((box.bounding_box() or {"y": 0})["y"]) for box in now.locator("label").all()}
    assert len(rows) == 2  # 6 + 5 on a 375-px phone
    save_and_continue(page)

    # Step 3: the questionnaires.
    on_step(page, 3, "Function", axe_violations)
    expect(page.get_by_text("Your pain on average")).to_have_count(0)  # asked at step 2
    page.get_by_role("group", name="how close to normal").get_by_label("50%").check()
    activities = page.get_by_role("region", name="Daily activities")
    for question in activities.get_by_role("group").all():
        question.get_by_label("Some", exact=True).check()
    save_and_continue(page)

    # Log out in the middle and come back: the intake continues at step 4.
    on_step(page, 4, "What you have tried", axe_violations)
    page.get_by_role("button", name="Toggle navigation").click()  # collapsed on a phone
    page.get_by_role("button", name="Log out").click()
    expect(page).to_have_url(f"{live_server.url}/")
    page.get_by_role("link", name="Log in", exact=True).filter(visible=True).first.click()
    log_in(page)
    expect(page).to_have_url(f"{live_server.url}/intake/")
    page.get_by_role("link", name="Continue at step 4 of 8").click()

    # Step 4: physical therapy helped somewhat; nothing else tried.
    on_step(page, 4, "What you have tried", axe_violations)
    therapy = page.get_by_role("group", name="Physical therapy", exact=True)
    expect(therapy.get_by_role("group", name="When was the last time?")).to_be_hidden()
    therapy.get_by_role("group", name="Have you tried it?").get_by_label("Yes").check()
    last_time = therapy.get_by_role("group", name="When was the last time?")
    last_time.get_by_label("Month").select_option(label="September")
    last_time.get_by_label("Year").fill("2024")
    therapy.get_by_label("For how long?").fill("Eight weeks, twice a week")
    therapy.get_by_label("How well did it work?").select_option(label="Helped somewhat")
    for kind in (
        "Pain or anti-inflammatory medicines",
        "Steroid (cortisone) injections",
        "Dextrose prolotherapy",
        "PRP (platelet-rich plasma)",
        "Stem cell injections",
        "Surgery",
    ):
        treatment = page.get_by_role("group", name=kind, exact=True)
        treatment.get_by_role("group", name="Have you tried it?").get_by_label("No").check()
    save_and_continue(page)

    # Step 5: "No" to every screening and red-flag question, and the medicines.
    on_step(page, 5, "Health history", axe_violations)
    questions = page.get_by_role("group", name="Health questions").get_by_role("group")
    assert questions.count() >= 10
    symptoms = page.get_by_role("group", name="Symptoms that need prompt care")
    assert symptoms.get_by_role("group").count() >= 4
    for question in [*questions.all(), *symptoms.get_by_role("group").all()]:
        question.get_by_label("No", exact=True).check()
    page.get_by_label("Medicines you take now").fill("Paracetamol 500 mg when needed")
    page.get_by_label("Allergies (optional)").fill("Penicillin")
    save_and_continue(page)

    # Step 6: an MRI, and its report uploaded as a PDF.
    on_step(page, 6, "Imaging", axe_violations)
    page.get_by_role("group", name="Have you had an X-ray").get_by_label("Yes").check()
    page.get_by_label("Which scan?").select_option(label="MRI")
    page.get_by_label("Of which area?").select_option(label="Knee")
    scanned = page.get_by_role("group", name="When? (roughly)")
    scanned.get_by_label("Month").select_option(label="January")
    scanned.get_by_label("Year").fill("2025")
    page.get_by_label("Where? (clinic or hospital, optional)").fill("Portland Imaging")
    page.get_by_label("Upload a report or image (optional)").set_input_files(
        a_small_pdf("mri-report.pdf")
    )
    page.get_by_role("button", name="Upload this file").click()
    expect(page.get_by_role("alert").filter(has_text="Saved.")).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text="mri-report.pdf")).to_contain_text("PDF")
    expect(page.get_by_role("button", name="Remove mri-report.pdf")).to_be_visible()
    scan = page.get_by_role("group", name="Scan 1")
    expect(scan.get_by_label("Which scan?")).to_have_value("mri")
    expect(page.get_by_text("Add another scan")).to_be_visible()
    check_page(page, axe_violations, "step-6-uploaded")
    save_and_continue(page)

    # Step 7: goals, times and how they will pay.
    on_step(page, 7, "Goals and preferences", axe_violations)
    page.get_by_label("What would you like to get back to doing?").fill(
        "Walking the dog for an hour and hiking again."
    )
    page.get_by_label("Platelet-rich plasma (PRP)").check()
    page.get_by_label("Tuesday").check()
    page.get_by_label("Thursday").check()
    page.get_by_label("Morning (8–12)").check()
    page.get_by_role("group", name="How do you expect to pay?").get_by_label(
        "I expect to pay myself"
    ).check()
    save_and_continue(page)

    # Step 8: review, acknowledge, sign and submit.
    on_step(page, 8, "Review and consent", axe_violations)
    expect(page.get_by_text("Before you can sign")).to_have_count(0)
    expect(page.get_by_role("link", name="mri-report.pdf")).to_be_visible()
    page.get_by_label("I understand the risks").check()
    page.get_by_label("I understand these treatments are usually self-pay").check()
    page.get_by_label("I understand none of these treatments is FDA-approved").check()
    page.get_by_label("Type your full legal name to sign").fill(NAME)
    page.get_by_role("button", name="Sign and submit").click()

    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(re.compile(r"Your intake RM-[A-Z0-9]{4}-[A-Z0-9]{4}"))
    expect(page.get_by_text("Status: Received")).to_be_visible()
    reference = re.search(r"RM-[A-Z0-9]{4}-[A-Z0-9]{4}", heading.inner_text())
    assert reference is not None
    expect(page.get_by_role("alert")).to_contain_text(reference.group())
    check_page(page, axe_violations, "detail")

    confirmation = printed_email(capsys, f"We received your intake (reference {reference.group()})")
    assert f"To: {EMAIL}" in confirmation
    assert f"Your reference number is {reference.group()}" in confirmation
