"""The procedure record's pages: the physician records on the plan page, a refusal
keeps what was typed, the patient reads what was done, and the recall list finds
the patient of a lot (physicians and clinic admins only), in constant queries."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from care.models import ProcedureRecord
from care.services.procedure_records import procedure_record
from clinic.models import AuditEvent
from tests.care.helpers import billing_provider
from tests.care.test_procedure_records import allograft, book
from tests.factories import case_to_book, working_hours
from treatments.models import BodyRegion, TreatmentOption

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(physician, patient):
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    return case_to_book(physician, patient=patient)


def record_post(consultation, **overrides):
    values = {
        "performed_time": timezone.localtime(consultation.starts_at + timedelta(minutes=5))
        .time()
        .strftime("%H:%M"),
        "option": TreatmentOption.objects.get(slug="allograft").pk,
        "body_region": BodyRegion.objects.get(slug="knee").pk,
        "side": "left",
        "guidance": "ultrasound",
        "volume_injected_ml": "4.0",
        "harvest_site": "",
        "product_name": "Amniotic membrane allograft",
        "manufacturer": "Example Tissue Bank",
        "lot_number": "AM-2026-0147",
        "lot_expires_on": "2028-06-30",
        "complication": "none",
        "note": "",
    }
    return values | overrides


def test_the_physician_records_the_procedure_on_its_day(
    case, physician, front_desk, patient, login
) -> None:
    consultation = book(case, physician, front_desk, "allograft")
    client = login(physician)
    url = reverse("care:plan", args=[case.public_id])
    assert "Record the procedure" not in client.get(url).content.decode()  # not its day yet
    with time_machine.travel(consultation.starts_at + timedelta(minutes=50), tick=False):
        client = login(physician)  # days later: a new session
        page = client.get(url).content.decode()
        assert "Record the procedure" in page
        post = reverse("care:procedure_record", args=[consultation.public_id])
        refused = client.post(post, record_post(consultation, lot_number=""))
        text = refused.content.decode()
        assert refused.status_code == 200 and "Donor tissue must be traceable" in text
        assert 'value="Example Tissue Bank"' in text  # what was typed is kept
        bad = client.post(post, record_post(consultation, volume_injected_ml="lots"))
        assert bad.status_code == 200 and "Enter a number" in bad.content.decode()
        done = client.post(post, record_post(consultation))
        assert done.status_code == 302
        page = client.get(url).content.decode()
        assert "Procedures done" in page and "lot AM-2026-0147" in page
        assert "Record the procedure" not in page
        case.refresh_from_db()
        assert case.state == "treated"
        mine = login(patient).get(reverse("care:patient_care", args=[case.public_id]))
        text = mine.content.decode()
        assert "What was done on" in text and "lot AM-2026-0147" in text
        assert "recalled" in text
    record = ProcedureRecord.objects.get()
    assert (
        timezone.localtime(record.performed_at).time().strftime("%H:%M")
        == record_post(consultation)["performed_time"]
    )


def _recorded(case, physician, front_desk):
    consultation = book(case, physician, front_desk, "allograft")
    with time_machine.travel(consultation.starts_at + timedelta(minutes=50), tick=False):
        return procedure_record(
            consultation=consultation, physician=physician, details=allograft(consultation)
        )


def test_the_recall_list_finds_the_patients_of_a_lot_in_constant_queries(
    case, physician, front_desk, clinic_admin, other_patient, login
) -> None:
    _recorded(case, physician, front_desk)
    client = login(clinic_admin)
    url = reverse("care:lot_recall")
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as one:
        page = client.get(url, {"lot": " am-2026-0147"})
    assert case.intake.legal_name in page.content.decode()
    assert AuditEvent.objects.filter(patient=case.patient, action="list").exists()
    _recorded(case_to_book(physician, patient=other_patient), physician, front_desk)
    with CaptureQueriesContext(connection) as two:
        page = client.get(url, {"lot": "AM-2026-0147"})
    assert "2 patients" in page.content.decode()
    assert len(two) == len(one)
    empty = client.get(url, {"lot": "x" * 200})
    assert empty.status_code == 200 and "at most 60" in empty.content.decode()
    assert "No patient received" in client.get(url, {"lot": "NOPE"}).content.decode()


def test_the_front_desk_and_patients_do_not_reach_the_recall_list(
    front_desk, patient, login
) -> None:
    url = reverse("care:lot_recall")
    assert login(front_desk).get(url).status_code == 403
    assert login(patient).get(url).status_code == 403
