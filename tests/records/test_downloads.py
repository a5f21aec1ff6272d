"""The physician's "Download as FHIR" on the case page and the patient's "Download
my record": who may, what they get, that it is audited, never cached, and that the
patient's downloads are rate-limited."""

import json
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent, User
from intake import cases
from intake.models import Case
from records.views import PATIENT_RECORD
from tests.conftest import ClinicClient
from tests.factories import submitted_case
from treatments.models import Condition


def _signed_in(user: User) -> ClinicClient:
    client = ClinicClient()
    client.force_login(user)
    return client


@pytest.fixture
def my_case(patient: User, physician: User) -> Case:
    case = submitted_case(patient)
    cases.case_claim(case=case, physician=physician)
    case.refresh_from_db()
    assert case.assigned_to == physician
    return case


def _case_url(case: Case) -> str:
    return reverse("records:case_fhir", kwargs={"public_id": case.public_id})


def _bundle(response: Any) -> dict[str, Any]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    bundle: dict[str, Any] = json.loads(response.content)
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    return bundle


def _of_type(bundle: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]


def _exports() -> list[tuple[Any, ...]]:
    return list(
        AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT)
        .order_by("pk")
        .values_list("actor_id", "patient_id", "record_type", "record_id")
    )


def test_the_cases_physician_downloads_it_as_fhir_and_the_export_is_audited(
    my_case: Case, physician: User
) -> None:
    bundle = _bundle(_signed_in(physician).get(_case_url(my_case)))
    [task] = _of_type(bundle, "Task")
    assert task["id"] == str(my_case.public_id)
    [patient] = _of_type(bundle, "Patient")
    assert patient["id"] == str(my_case.patient.public_id)
    assert _exports() == [(physician.pk, my_case.patient_id, "case", str(my_case.public_id))]


def test_the_case_page_offers_the_download_to_the_cases_physician_only(
    my_case: Case, physician: User, other_physician: User
) -> None:
    page = reverse("review:case", kwargs={"public_id": my_case.public_id})
    assert _case_url(my_case) in _signed_in(physician).get(page).content.decode()
    assert _case_url(my_case) not in _signed_in(other_physician).get(page).content.decode()


@pytest.mark.parametrize(
    ("persona", "status"),
    [("other_physician", 404), ("front_desk", 403), ("clinic_admin", 403), ("patient", 403)],
)
def test_no_one_else_downloads_the_case(
    request: pytest.FixtureRequest, my_case: Case, persona: str, status: int
) -> None:
    response = _signed_in(request.getfixturevalue(persona)).get(_case_url(my_case))
    assert response.status_code == status
    assert _exports() == []


def test_a_case_in_the_pool_is_not_exported_until_a_physician_has_it(
    patient: User, physician: User
) -> None:
    case = submitted_case(patient, route=False)
    assert case.assigned_to is None
    assert _signed_in(physician).get(_case_url(case)).status_code == 404


def test_the_downloads_are_gets_only(my_case: Case, physician: User, patient: User) -> None:
    assert _signed_in(physician).post(_case_url(my_case)).status_code == 405
    assert _signed_in(patient).post(reverse("records:my_record_fhir")).status_code == 405


def test_a_visitor_is_sent_to_log_in(my_case: Case) -> None:
    for url in (_case_url(my_case), reverse("records:my_record_fhir")):
        response = ClinicClient().get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_patient_downloads_their_own_record_and_only_theirs(
    patient: User, other_patient: User, physician: User
) -> None:
    first = submitted_case(patient)
    second = submitted_case(patient, region="hip")
    theirs = submitted_case(other_patient)
    bundle = _bundle(_signed_in(patient).get(reverse("records:my_record_fhir")))
    assert {task["id"] for task in _of_type(bundle, "Task")} == {
        str(first.public_id),
        str(second.public_id),
    }
    assert str(theirs.public_id) not in json.dumps(bundle)
    assert [p["id"] for p in _of_type(bundle, "Patient")] == [str(patient.public_id)]
    assert sorted(_exports()) == sorted(
        [
            (patient.pk, patient.pk, PATIENT_RECORD, str(patient.public_id)),
            (patient.pk, patient.pk, "case", str(first.public_id)),
            (patient.pk, patient.pk, "case", str(second.public_id)),
        ]
    )


def test_the_patient_page_offers_the_download_once_a_case_exists(patient: User) -> None:
    client = _signed_in(patient)
    link = reverse("records:my_record_fhir")
    assert link not in client.get(reverse("intake:home")).content.decode()
    submitted_case(patient)
    page = client.get(reverse("intake:home")).content.decode()
    assert link in page and "Download my record" in page


def test_the_patients_downloads_are_rate_limited(patient: User, settings) -> None:
    settings.RECORD_DOWNLOADS_PER_HOUR = 2
    settings.SESSION_IDLE_MINUTES_PATIENT = 120  # still signed in an hour later
    submitted_case(patient)
    client = _signed_in(patient)
    url = reverse("records:my_record_fhir")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        assert client.get(url).status_code == 200
        assert client.get(url).status_code == 200
        refused = client.get(url)
        assert refused.status_code == 429 and refused["Retry-After"] == "3600"
        assert "Please try again in an hour" in refused.content.decode()
    downloads = AuditEvent.objects.filter(record_type=PATIENT_RECORD)
    assert downloads.count() == 2  # a refused download is not one
    with time_machine.travel(start + timedelta(hours=1, minutes=1), tick=False):
        assert client.get(url).status_code == 200


def _coded_case(patient: User, region: str = "knee") -> Case:
    """A case whose complaint names a condition with billable codes."""
    case = submitted_case(patient, region=region)
    named = Condition.objects.filter(codes__isnull=False).order_by("pk").first()
    assert named is not None
    case.intake.complaints.update(condition=named, side="left")
    return case


def test_the_patients_download_takes_as_many_queries_for_three_cases_as_for_one(
    patient: User,
) -> None:
    client = _signed_in(patient)
    url = reverse("records:my_record_fhir")
    _coded_case(patient)
    client.get(url)  # warm the session and role caches
    with CaptureQueriesContext(connection) as one:
        _bundle(client.get(url))
    _coded_case(patient, region="hip")
    _coded_case(patient)
    with CaptureQueriesContext(connection) as three:
        bundle = _bundle(client.get(url))
    assert len(_of_type(bundle, "Task")) == 3
    assert all("coding" in c["code"] for c in _of_type(bundle, "Condition"))
    assert len(three) == len(one)


def test_the_patient_reads_their_record_as_a_page_audited_and_never_stored(
    patient: User, other_patient: User, physician: User
) -> None:
    mine = submitted_case(patient)
    theirs = submitted_case(other_patient)
    response = _signed_in(patient).get(reverse("records:my_record"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    page = response.content.decode()
    assert mine.reference in page and theirs.reference not in page
    assert mine.intake.legal_name in page
    assert reverse("records:my_record_fhir") in page
    assert sorted(_exports()) == sorted(
        [
            (patient.pk, patient.pk, PATIENT_RECORD, str(patient.public_id)),
            (patient.pk, patient.pk, "case", str(mine.public_id)),
        ]
    )


def test_the_page_and_the_file_share_the_rate_limit(patient: User, settings) -> None:
    settings.RECORD_DOWNLOADS_PER_HOUR = 2
    submitted_case(patient)
    client = _signed_in(patient)
    assert client.get(reverse("records:my_record")).status_code == 200
    assert client.get(reverse("records:my_record_fhir")).status_code == 200
    assert client.get(reverse("records:my_record")).status_code == 429
    assert client.get(reverse("records:my_record_fhir")).status_code == 429


def test_the_record_page_takes_as_many_queries_for_three_cases_as_for_one(
    patient: User,
) -> None:
    client = _signed_in(patient)
    url = reverse("records:my_record")
    _coded_case(patient)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _coded_case(patient, region="hip")
    _coded_case(patient)
    with CaptureQueriesContext(connection) as three:
        assert client.get(url).status_code == 200
    assert len(three) == len(one)
