"""The care pages: the physician's plan editor, the patient's plan and estimate, and
the front desk's list, with the outsiders, wrong methods, kept input and query counts."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from care.models import EstimateAcknowledgement, EstimateDue, TreatmentPlan
from care.services import estimates, plans
from tests.care.helpers import billing_provider, draft, latest_estimate, shared_plan
from tests.factories import UserFactory, case_to_book
from treatments.models import BodyRegion, TreatmentOption

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(physician, patient):
    billing_provider()
    return case_to_book(physician, patient=patient)


def plan_post(**overrides):
    values = {
        "options": [TreatmentOption.objects.get(slug="prp").pk],
        "body_region": BodyRegion.objects.get(slug="knee").pk,
        "side": "left",
        "condition": "",
        "icd10_code": "M17.12",
        "sessions": "1",
        "weeks_between_sessions": "0",
        "guidance": "ultrasound",
        "harvest_source": "",
        "note_to_patient": "We will review at six weeks.",
    }
    return values | overrides


def test_the_physician_writes_and_shares_the_plan_from_the_case(case, physician, login) -> None:
    client = login(physician)
    page = client.get(reverse("review:case", args=[case.public_id]))
    assert reverse("care:plan", args=[case.public_id]) in page.content.decode()
    url = reverse("care:plan", args=[case.public_id])
    assert client.get(url).status_code == 200
    response = client.post(url, plan_post())
    assert response.status_code == 302
    plan = TreatmentPlan.objects.get(case=case)
    item = plan.items.get()
    page = client.get(url).content.decode()
    assert "Example price" in page and "0232T" in page
    response = client.post(
        reverse("care:plan_item", args=[item.public_id]),
        {f"item-{item.public_id}-quantity": "1", f"item-{item.public_id}-charge": "999"},
    )
    assert response.status_code == 200 and "Give the reason" in response.content.decode()
    assert 'value="999"' in response.content.decode()  # what was typed is kept
    response = client.post(
        reverse("care:plan_item", args=[item.public_id]),
        {
            f"item-{item.public_id}-quantity": "1",
            f"item-{item.public_id}-charge": "999",
            f"item-{item.public_id}-reason": "Returning patient",
        },
    )
    assert response.status_code == 302
    assert client.post(reverse("care:plan_share", args=[plan.public_id])).status_code == 302
    plan.refresh_from_db()
    assert plan.is_shared and latest_estimate(case).total == 999


def test_a_refused_plan_keeps_what_was_typed(case, physician, login) -> None:
    client = login(physician)
    response = client.post(
        reverse("care:plan", args=[case.public_id]),
        plan_post(icd10_code="knee!", note_to_patient="Kept words"),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "ICD-10-CM" in html and "Kept words" in html and 'value="knee!"' in html
    response = client.post(
        reverse("care:plan", args=[case.public_id]),
        plan_post(options=[TreatmentOption.objects.get(slug="adipose-stem-cells").pk]),
    )
    assert response.status_code == 200 and "harvested" in response.content.decode()
    assert not TreatmentPlan.objects.exists()


def test_outsiders_do_not_reach_the_plan(case, other_physician, patient, login) -> None:
    url = reverse("care:plan", args=[case.public_id])
    assert login(other_physician).get(url).status_code == 404
    assert login(patient).get(url).status_code == 403


def test_the_patient_reads_and_acknowledges_the_estimate(
    case, physician, patient, other_patient, login
) -> None:
    shared_plan(case, physician, "prp")
    estimate = latest_estimate(case)
    client = login(patient)
    detail = client.get(reverse("intake:detail", args=[case.intake.public_id])).content.decode()
    assert reverse("care:patient_care", args=[case.public_id]) in detail
    mine = client.get(reverse("care:patient_care", args=[case.public_id])).content.decode()
    assert "Platelet-rich plasma" in mine
    assert reverse("care:estimate", args=[estimate.public_id]) in mine
    page = client.get(reverse("care:estimate", args=[estimate.public_id])).content.decode()
    for text in ("M17.12", "CPT 0232T", "1234567893", "12-3456789", "$400", "not a contract"):
        assert text in page
    assert "I have received this estimate" in page
    url = reverse("care:estimate_acknowledge", args=[estimate.public_id])
    assert client.get(url).status_code == 405
    response = client.post(url, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 302
    receipt = EstimateAcknowledgement.objects.get()
    assert receipt.ip_address == "203.0.113.7" and receipt.patient == patient
    again = client.get(reverse("care:estimate", args=[estimate.public_id]))
    assert "Receipt confirmed" in again.content.decode()

    other = login(other_patient)
    assert other.get(reverse("care:estimate", args=[estimate.public_id])).status_code == 404
    assert other.post(url).status_code == 404
    assert other.get(reverse("care:patient_care", args=[case.public_id])).status_code == 404


def test_two_estimates_of_one_day_read_apart_on_the_patients_page(
    case, physician, patient, login
) -> None:
    """A plan changed the day it was shared re-issues the estimate: the list names each
    by its time as well as its day."""
    import re

    import time_machine

    now = timezone.localtime()
    with time_machine.travel(now.replace(hour=9, minute=5), tick=False):
        plan = shared_plan(case, physician, "prp")
    with time_machine.travel(now.replace(hour=11, minute=40), tick=False):
        plans.plan_share(
            plan=plans.plan_revise(plan=plan, physician=physician, reason="Price agreed"),
            physician=physician,
        )
    page = login(patient).get(reverse("care:patient_care", args=[case.public_id]))
    links = re.findall(r"Estimate of ([^<]+)</a>", page.content.decode())
    assert len(links) == 2 and links[0] != links[1]
    assert links[0].endswith("11:40") and links[1].endswith("09:05")


def test_the_patient_asks_for_an_estimate(case, patient, login) -> None:
    client = login(patient)
    response = client.post(reverse("care:estimate_request", args=[case.public_id]))
    assert response.status_code == 302
    assert EstimateDue.objects.get().reason == "requested"
    again = client.post(reverse("care:estimate_request", args=[case.public_id]), follow=True)
    assert "already asked" in again.content.decode()


def _due(case, days_ago: int) -> EstimateDue:
    due = estimates.estimate_due_open(
        case=case,
        reason=EstimateDue.Reason.REQUESTED,
        at=timezone.now() - timedelta(days=days_ago),
        by=None,
    )
    return due


def test_the_front_desk_list_shows_due_overdue_and_issued(
    case, physician, front_desk, login, django_assert_max_num_queries
) -> None:
    shared_plan(case, physician, "prp", note_to_patient="Clinical words for the patient")
    _due(case, days_ago=30)
    client = login(front_desk)
    url = reverse("care:estimates")
    page = client.get(url).content.decode()
    assert "Overdue" in page and case.reference in page
    # Read as text: a random nonce or CSRF token in an attribute can spell "M17".
    text = strip_tags(page)
    assert "Clinical words" not in text and "M17" not in text

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    before = queries()
    for _ in range(3):
        other = case_to_book(physician, patient=UserFactory.create(role="patient"))
        shared_plan(other, physician, "prp")
        _due(other, days_ago=0)
    assert queries() == before


def test_the_front_desk_issues_a_due_estimate(case, physician, front_desk, login) -> None:
    shared_plan(case, physician, "prp")
    _due(case, days_ago=0)
    client = login(front_desk)
    response = client.post(
        reverse("care:estimate_issue", args=[case.public_id]),
        {"separately_scheduled": "Knee MRI at the imaging centre"},
    )
    assert response.status_code == 302
    estimate = latest_estimate(case)
    assert estimate.issued_by == front_desk and not EstimateDue.objects.open().exists()
    assert "Knee MRI" in client.get(response["Location"]).content.decode()


def test_a_refused_issue_keeps_what_was_typed(case, physician, front_desk, login) -> None:
    plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))  # not shared
    _due(case, days_ago=0)
    response = login(front_desk).post(
        reverse("care:estimate_issue", args=[case.public_id]),
        {"separately_scheduled": "Typed by the desk"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "not shared a plan" in html and "Typed by the desk" in html


def test_the_physician_reviews_and_approves_instructions_the_patient_then_reads(
    case, physician, other_physician, patient, front_desk, login
) -> None:
    from care.models import InstructionAcknowledgement, ProcedureInstruction
    from care.services import procedures
    from intake.scheduling import free_slots
    from tests.factories import working_hours

    working_hours(physician.physician_profile, weekdays=range(7))
    shared_plan(case, physician, "prp")
    procedure = procedures.procedure_book(
        case=case,
        starts_at=free_slots(
            physician=physician.physician_profile,
            consultation_type=procedures.procedure_type(),
            start_day=timezone.localdate() + timedelta(days=14),
            days=5,
        )[0].starts_at,
        booked_by=front_desk,
    )
    doctor = login(physician)
    plan_page = reverse("care:plan", args=[case.public_id])
    draft_url = reverse("care:instructions_draft", args=[procedure.public_id])
    assert doctor.post(draft_url).status_code == 302
    assert "The patient's medicines" in doctor.get(plan_page).content.decode()
    nsaid = ProcedureInstruction.objects.get(text__startswith="do not take ibuprofen")
    prefix = f"instruction-{nsaid.public_id}"
    edit = reverse("care:instruction_edit", args=[nsaid.public_id])
    bad = doctor.post(
        edit, {f"{prefix}-text": "Typed words", f"{prefix}-days_from_procedure": "-400"}
    )
    assert bad.status_code == 200 and "Typed words" in bad.content.decode()
    ok = doctor.post(
        edit, {f"{prefix}-text": "no ibuprofen.", f"{prefix}-days_from_procedure": "-3"}
    )
    assert ok.status_code == 302
    steroid = ProcedureInstruction.objects.get(days_from_procedure=-42)
    assert (
        doctor.post(reverse("care:instruction_drop", args=[steroid.public_id])).status_code == 302
    )

    mine = reverse("care:patient_care", args=[case.public_id])
    pat = login(patient)
    assert "no ibuprofen" not in pat.get(mine).content.decode()  # not approved yet
    other = login(other_physician)
    assert (
        other.post(reverse("care:instructions_approve", args=[procedure.public_id])).status_code
        == 404
    )
    doctor = login(physician)
    assert (
        doctor.post(reverse("care:instructions_approve", args=[procedure.public_id])).status_code
        == 302
    )
    pat = login(patient)
    page = pat.get(mine).content.decode()
    assert "From " in page and "no ibuprofen." in page and "I have read these instructions" in page
    read = pat.post(reverse("care:instructions_acknowledge", args=[procedure.public_id]))
    assert read.status_code == 302
    assert InstructionAcknowledgement.objects.get().patient == patient
    assert "You confirmed you read" in pat.get(mine).content.decode()


def test_the_patient_downloads_the_estimate_as_a_pdf(
    case, physician, patient, other_patient, login
) -> None:
    import io

    from pypdf import PdfReader

    from clinic.models import AuditEvent

    shared_plan(case, physician, "prp")
    estimate = latest_estimate(case)
    client = login(patient)
    page = client.get(reverse("care:estimate", args=[estimate.public_id])).content.decode()
    url = reverse("care:estimate_download", args=[estimate.public_id])
    assert url in page
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "no-store" in response["Cache-Control"]
    assert response["Content-Disposition"].startswith('attachment; filename="good-faith-')
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(response.content)).pages)
    for expected in (estimate.patient_name, "M17.12", "0232T", "1234567893", "$400"):
        assert expected in text, expected
    assert f"${estimate.total:,.2f}" in text
    assert AuditEvent.objects.filter(patient=patient, action="download").exists()
    assert login(other_patient).get(url).status_code == 404
