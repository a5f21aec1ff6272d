"""After the consultation, end to end in headless Chromium: the physician writes the
treatment plan (donor tissue, an allograft) and shares it; the self-pay patient's
Good Faith Estimate appears on the patient's page and the front desk's list; the
front desk books the procedure; the physician drafts and approves the instructions;
the patient confirms the estimate and the instructions; on the procedure's day the
physician records it with the tissue's lot; the patient reads what was done; and a
clinic admin finds the patient on the recall list by the lot.

The procedure's day is reached with time_machine: the live server runs in this
process, so its clock travels too (everyone logs in again, days later). Every page is
checked with axe-core and for sideways scrolling at 1280 and 375 px; problems are
collected and reported at the end (see tests/browser/journey.py, also for
screenshots: JOURNEY_SHOTS=/some/folder)."""

import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import Page, expect

from care.models import GoodFaithEstimate, ProcedureRecord
from clinic.models import User
from intake.models import Case, Consultation
from tests.browser.journey import DESKTOP, PHONE, inspect, log_in
from tests.care.helpers import billing_provider
from tests.factories import case_to_book, working_hours
from treatments.models import TreatmentOption

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LOT = "AM-2026-0147"


def _tab(new_context, user: User, base_url: str, *, phone: bool = False) -> Page:
    tab = new_context(viewport=PHONE if phone else DESKTOP).new_page()
    tab.set_default_timeout(10_000)
    log_in(tab, base_url, user.email)
    return tab


def test_plan_estimate_booking_instructions_record_and_recall(
    new_context,
    live_server,
    physician,
    patient,
    front_desk,
    clinic_admin,
    axe_violations,
):
    problems: dict[str, list[str]] = {}
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    case = case_to_book(physician, patient=patient)  # self-pay; a candidate for a consultation
    legal_name = case.intake.legal_name
    base = live_server.url

    # The physician opens the case and writes the plan: an allograft for the left knee.
    doctor = _tab(new_context, physician, base)
    doctor.goto(f"{base}/review/cases/{case.public_id}/")
    doctor.get_by_role("link", name="Treatment plan").click()
    expect(doctor).to_have_url(f"{base}/care/cases/{case.public_id}/plan/")
    expect(doctor.get_by_role("heading", level=1)).to_have_text(f"Treatment plan: {legal_name}")
    # The options start from the review decision's (PRP); at the consultation they
    # chose donor tissue instead.
    expect(doctor.get_by_label("Platelet-rich plasma (PRP)")).to_be_checked()
    doctor.get_by_label("Platelet-rich plasma (PRP)").uncheck()
    doctor.get_by_label("Allograft (placental or umbilical tissue)").check()
    doctor.get_by_label("Body region").select_option(label="Knee")
    doctor.get_by_label("Side").select_option(label="Left")
    doctor.get_by_label("ICD-10-CM code").fill("M17.12")
    doctor.get_by_label("Ultrasound", exact=True).check()
    doctor.get_by_label("Note to the patient").fill("One donor-tissue injection.")
    doctor.get_by_role("button", name="Save the draft").click()
    expect(doctor.get_by_role("alert").filter(has_text="The draft plan is saved")).to_be_visible()
    inspect(doctor, "plan-draft", axe_violations, problems)
    doctor.get_by_role("button", name="Share version 1 with the patient").click()
    expect(doctor.get_by_role("alert").filter(has_text="Version 1 is shared")).to_be_visible()
    first_estimate = GoodFaithEstimate.objects.get(case=case)  # self-pay: issued at once

    # The patient sees the plan and the estimate on their page.
    mine = _tab(new_context, patient, base, phone=True)
    mine.goto(f"{base}/intake/{case.intake.public_id}/")
    mine.get_by_role("link", name="Your treatment plan and estimates").click()
    expect(mine).to_have_url(f"{base}/care/my/{case.public_id}/")
    expect(mine.get_by_text("One donor-tissue injection.")).to_be_visible()
    expect(mine.get_by_role("link", name=re.compile(r"^Estimate of "))).to_have_count(1)
    inspect(mine, "patient-plan", axe_violations, problems)

    # The front desk finds it on the estimates list and books the procedure.
    desk = _tab(new_context, front_desk, base)
    desk.get_by_role("link", name="Estimates").click()
    expect(desk).to_have_url(f"{base}/care/estimates/")
    issued = desk.get_by_role("row").filter(has_text=case.reference)
    expect(issued).to_contain_text(legal_name)
    expect(issued).to_contain_text("Not scheduled")
    to_book = desk.get_by_role("listitem").filter(has_text=f"case {case.reference}")
    inspect(desk, "estimates-list", axe_violations, problems)
    to_book.get_by_role("link", name="Book the procedure").click()
    expect(desk).to_have_url(f"{base}/care/cases/{case.public_id}/book-procedure/")
    # The first free time after today (the record form only shows on the day itself).
    times = desk.locator("input[name=starts_at]")
    later = next(
        value
        for value in times.evaluate_all("inputs => inputs.map(i => i.value)")
        if timezone.localdate(datetime.fromisoformat(value)) > timezone.localdate()
    )
    times.and_(desk.locator(f'[value="{later}"]')).first.check()
    desk.get_by_role("button", name="Book the selected time").click()
    expect(desk.get_by_role("alert").filter(has_text="Procedure booked")).to_be_visible()
    procedure = Consultation.objects.get(case=case, consultation_type__slug="injection-procedure")
    assert procedure.state == Consultation.State.BOOKED
    assert procedure.starts_at == datetime.fromisoformat(later)
    # Re-issued with the procedure's date.
    estimate = GoodFaithEstimate.objects.filter(case=case).latest()
    assert estimate.pk != first_estimate.pk and estimate.service_date is not None

    # The physician drafts the instructions from the templates and approves them.
    doctor.reload()
    doctor.get_by_role("button", name="Draft from the clinic's templates").click()
    expect(doctor.get_by_role("alert").filter(has_text="drafted")).to_be_visible()
    expect(doctor.get_by_text("Not approved").first).to_be_visible()
    doctor.get_by_role("button", name="Approve the instructions").click()
    expect(doctor.get_by_role("alert").filter(has_text="Instructions approved")).to_be_visible()
    expect(doctor.get_by_text("The patient reads:")).to_be_visible()
    assert not procedure.instructions.filter(approved_at__isnull=True).exists()
    assert "Record the procedure" not in doctor.content()  # not its day yet
    inspect(doctor, "plan-instructions", axe_violations, problems)

    # The patient confirms the latest estimate and reads the instructions.
    mine.reload()
    mine.get_by_role("link", name=re.compile(r"^Estimate of ")).first.click()
    expect(mine).to_have_url(f"{base}/care/estimates/{estimate.public_id}/")
    mine.get_by_role("button", name="I have received this estimate").click()
    expect(mine.get_by_role("alert").filter(has_text="your receipt")).to_be_visible()
    mine.get_by_role("link", name="Your treatment plan").click()
    expect(mine.get_by_text("you confirmed receipt")).to_be_visible()
    expect(mine.get_by_text("replaced by the newer estimate above")).to_be_visible()
    procedure_card = mine.get_by_role("region", name=re.compile(r"^Your procedure"))
    expect(procedure_card.get_by_role("listitem").first).to_be_visible()
    procedure_card.get_by_role("button", name="I have read these instructions").click()
    expect(mine.get_by_text("You confirmed you read these instructions.")).to_be_visible()
    assert procedure.instruction_receipts.filter(patient=patient).exists()
    for context in (doctor.context, mine.context, desk.context):
        context.close()

    # The procedure's day, half an hour in: the physician records it (new sessions).
    with time_machine.travel(procedure.starts_at + timedelta(minutes=30), tick=True):
        doctor = _tab(new_context, physician, base)
        doctor.goto(f"{base}/care/cases/{case.public_id}/plan/")
        form = doctor.get_by_role("region", name=re.compile(r"^Record the procedure of"))
        expect(form).to_be_visible()
        allograft = TreatmentOption.objects.get(slug="allograft")
        expect(form.get_by_role("combobox", name="Treatment", exact=True)).to_have_value(
            str(allograft.pk)
        )
        form.get_by_label("Volume injected (mL)").fill("2.0")
        form.get_by_label("Donor tissue product (allograft only)").fill(
            "Amniotic membrane allograft"
        )
        form.get_by_label("Manufacturer").fill("Example Tissue Bank")
        form.get_by_label("Lot or serial number").fill(LOT)
        form.get_by_label("Expiry date").fill("2028-06-30")
        inspect(doctor, "plan-record-form", axe_violations, problems)
        form.get_by_role("button", name="Record the procedure").click()
        expect(
            doctor.get_by_role("alert").filter(has_text="The procedure is recorded")
        ).to_be_visible()
        done = doctor.get_by_role("region", name="Procedures done")
        expect(done).to_contain_text(f"lot {LOT}")
        expect(done).to_contain_text("Amniotic membrane allograft (Example Tissue Bank)")
        expect(
            doctor.get_by_role("region", name=re.compile(r"^Record the procedure"))
        ).to_have_count(0)
        inspect(doctor, "plan-procedures-done", axe_violations, problems)
        record = ProcedureRecord.objects.get(consultation=procedure)
        assert (record.kind, record.lot_number) == ("donor_tissue", LOT)
        case.refresh_from_db()
        procedure.refresh_from_db()
        assert (case.state, procedure.state) == (Case.State.TREATED, Consultation.State.COMPLETED)

        # The patient reads what was done, from their intake's page.
        mine = _tab(new_context, patient, base, phone=True)
        mine.goto(f"{base}/intake/{case.intake.public_id}/")
        mine.get_by_role("link", name="Your treatment plan and estimates").click()
        what = mine.get_by_role("region", name=re.compile(r"^What was done on"))
        expect(what).to_contain_text("Allograft (placental or umbilical tissue)")
        expect(what).to_contain_text("left knee")
        expect(what).to_contain_text(f"lot {LOT}")
        expect(what).to_contain_text("recalled")
        inspect(mine, "patient-what-was-done", axe_violations, problems)

        # A clinic admin looks the lot up as typed from a recall notice.
        admin = _tab(new_context, clinic_admin, base)  # lands in the admin site
        admin.goto(f"{base}/frontdesk/")
        admin.get_by_role("link", name="Tissue recall").click()
        expect(admin).to_have_url(f"{base}/care/recall/")
        admin.get_by_label("Lot or serial number").fill(f" {LOT.lower()} ")
        admin.get_by_role("button", name="Find the patients").click()
        expect(admin.get_by_role("heading", level=2)).to_have_text(f"Lot {LOT.lower()}: 1 patient")
        row = admin.get_by_role("listitem").filter(has_text=legal_name)
        expect(row).to_contain_text(f"case {case.reference}")
        expect(row).to_contain_text(patient.email)
        expect(row).to_contain_text(f"lot {LOT}")
        inspect(admin, "recall-list", axe_violations, problems)

    assert problems == {}, "\n".join(f"{page}: {found}" for page, found in problems.items())
