"""The audit trail: every read of a patient's data leaves a row (who, which patient
and record, how, when, from where, which request); every change of clinical data
is kept with its before and after; on PostgreSQL neither can be rewritten."""

import html
import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import DatabaseError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.models import AuditEvent
from intake import cases
from intake.models import Case, Consultation
from tests import test_access_matrix
from tests.conftest import ClinicClient
from tests.factories import UserFactory, submitted_case
from tests.test_access_matrix import World

world = test_access_matrix.world  # the access matrix's one-of-everything fixture

# URL name, persona, how it is recorded, the kind of record, query string. Every
# page that shows one patient's data, or a list of patients, has a row.
READS = [
    ("review:case", "physician", "view", "case", ""),
    ("review:case", "other_physician", "view", "case", ""),
    ("review:case_print", "physician", "print", "case", ""),
    ("review:queue", "physician", "list", "case", ""),
    ("review:calendar", "physician", "list", "consultation", "?date={day}"),
    ("intake:file", "physician", "download", "imaging file", ""),
    ("intake:file", "patient_a", "download", "imaging file", ""),
    ("intake:detail", "patient_a", "view", "intake", ""),
    ("intake:step", "patient_a", "view", "intake", ""),
    ("intake:home", "patient_a", "list", "", ""),
    ("intake:consultation_calendar", "patient_a", "export", "consultation", ""),
    ("frontdesk:home", "desk", "list", "", ""),
    ("frontdesk:book", "desk", "view", "case", ""),
    ("frontdesk:consultation", "desk", "view", "consultation", ""),
    ("frontdesk:day", "desk", "list", "consultation", "?date={day}"),
]


@pytest.mark.parametrize(("name", "persona", "action", "record_type", "query"), READS)
def test_every_read_of_a_patients_data_is_recorded(
    client, world: World, name, persona, action, record_type, query
):
    user = world.users[persona]
    assert user is not None
    patient = world.users["patient_a"]
    assert patient is not None
    args = world.args.get(name, [])
    booked = Consultation.objects.order_by("starts_at").first()
    assert booked is not None
    day = timezone.localtime(booked.starts_at).date().isoformat()
    client.force_login(user)

    before = timezone.now()
    response = client.get(reverse(name, args=args) + query.format(day=day))
    assert response.status_code == 200

    rows = list(AuditEvent.objects.filter(request_id=response["X-Request-ID"]))
    assert rows, f"{name} wrote no audit row"
    assert {row.actor_id for row in rows} == {user.pk}
    assert {row.patient_id for row in rows} == {patient.pk}
    assert {row.action for row in rows} == {action}
    assert all(row.ip_address == "127.0.0.1" and row.at >= before for row in rows)
    if record_type:
        assert {row.record_type for row in rows} == {record_type}
    if args and not query:  # a page about one record names it
        assert str(args[0]) in {row.record_id for row in rows}
    assert rows[0].actor_role


def test_a_refused_read_is_not_recorded_as_seen(client, world: World):
    client.force_login(world.users["patient_b"])
    response = client.get(reverse("intake:detail", args=world.args["intake:detail"]))
    assert response.status_code == 404
    assert not AuditEvent.objects.filter(request_id=response["X-Request-ID"]).exists()


def test_the_audit_table_refuses_updates_and_deletes(db):
    event = AuditEvent.objects.create(action="view", record_type="case", record_id="x")
    for attempt in (
        lambda: AuditEvent.objects.filter(pk=event.pk).update(record_id="rewritten"),
        lambda: AuditEvent.objects.filter(pk=event.pk).delete(),
    ):
        with pytest.raises(DatabaseError, match="append_only"), transaction.atomic():
            attempt()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_auditevent")
    event.refresh_from_db()
    assert event.record_id == "x"


def test_every_change_of_a_case_is_kept_with_before_and_after(db, patient, physician):
    case = submitted_case(patient)
    cases.case_claim(case=case, physician=physician)
    # A bulk update bypasses model signals; the trigger still sees it.
    Case.objects.filter(pk=case.pk).update(priority=1)

    versions = list(case.history.order_by("pgh_id"))
    assert [v.pgh_label for v in versions][-1] == "update"
    assert versions[-1].priority == 1 and versions[-2].priority != 1
    assert versions[-2].state == Case.State.UNDER_REVIEW
    assert versions[-2].assigned_to_id == physician.pk

    with pytest.raises(DatabaseError), transaction.atomic():
        case.history.all().delete()


def test_a_change_made_in_a_request_records_who_and_which_request(client, patient, physician):
    case = submitted_case(patient)
    client.force_login(physician)
    response = client.post(reverse("review:claim", args=[case.public_id]))
    assert response.status_code == 302

    version = case.history.order_by("-pgh_id").first()
    assert version is not None and version.assigned_to_id == physician.pk
    context = version.pgh_context.metadata
    assert context["user"] == physician.pk
    assert context["request_id"] == response["X-Request-ID"]


def audit_search(client: Any, **terms: str) -> Any:
    """The search as the page sends it: a POST, answered by a redirect to the results."""
    response = client.post(reverse("audit_log"), terms)
    assert response.status_code == 302, response
    return response


def test_admins_search_the_audit_log_by_patient_person_and_date(client, clinic_admin):
    maria = UserFactory.create(role="patient", full_name="Maria Lopez")
    tom = UserFactory.create(role="patient", full_name="Tom Baker")
    lee = UserFactory.create(role="physician", full_name="Dr Lee", email="lee@clinic.example")
    old = timezone.now() - timedelta(days=40)
    AuditEvent.objects.create(actor=lee, patient=maria, action="view", record_type="case")
    AuditEvent.objects.create(actor=lee, patient=tom, action="print", record_type="case")
    AuditEvent.objects.create(actor=lee, patient=tom, action="view", record_type="case", at=old)
    client.force_login(clinic_admin)

    def rows(**terms: str) -> int:
        response = client.get(audit_search(client, **terms)["Location"])
        assert response.status_code == 200
        return len(response.context["page"].object_list)

    assert len(client.get(reverse("audit_log")).context["page"].object_list) == 3
    assert rows() == 3
    assert rows(patient="maria") == 1
    assert rows(patient="Tom") == 2
    assert rows(actor="lee@clinic") == 3
    assert rows(since=(timezone.localdate() - timedelta(days=7)).isoformat()) == 2
    assert rows(until=(timezone.localdate() - timedelta(days=30)).isoformat()) == 1
    assert rows(patient="tom", action="print") == 1


def test_search_terms_never_reach_a_url(client, clinic_admin):
    """Names typed into the search would be in the web server's access log and the
    browser's history if they were in the address: the address carries only an
    opaque token for the search kept in the session, also on every page link."""
    maria = UserFactory.create(role="patient", full_name="Maria Lopez")
    for _ in range(51):
        AuditEvent.objects.create(patient=maria, action="view", record_type="case")
    AuditEvent.objects.create(action="view", record_type="case")
    client.force_login(clinic_admin)

    location = audit_search(client, patient="Maria Lopez", since="2020-01-01")["Location"]
    assert "maria" not in location.lower() and "2020" not in location
    first = client.get(location)
    body = first.content.decode()
    assert first.context["page"].paginator.count == 51
    next_link = re.search(r'href="(\?[^"]*page=2)"', body)
    assert next_link is not None, body
    assert "maria" not in next_link.group(1).lower()
    # The second page keeps the search.
    second = client.get(reverse("audit_log") + html.unescape(next_link.group(1)))
    assert second.context["page"].number == 2
    assert [event.patient_id for event in second.context["page"].object_list] == [maria.pk]
    # The form shows what was searched for, from the session.
    assert 'value="Maria Lopez"' in body


def test_names_in_the_query_string_are_not_searched_for(client, clinic_admin):
    maria = UserFactory.create(role="patient", full_name="Maria Lopez")
    AuditEvent.objects.create(patient=maria, action="view", record_type="case")
    AuditEvent.objects.create(action="view", record_type="case")
    client.force_login(clinic_admin)
    response = client.get(reverse("audit_log"), {"patient": "maria"})
    assert response.context["page"].paginator.count == 2


def test_a_search_token_works_only_in_its_own_session(client, clinic_admin):
    AuditEvent.objects.create(action="print", record_type="case")
    AuditEvent.objects.create(action="view", record_type="case")
    client.force_login(clinic_admin)
    location = audit_search(client, action="print")["Location"]
    assert client.get(location).context["page"].paginator.count == 1

    other = ClinicClient()
    other.force_login(UserFactory.create(role="clinic_admin", is_staff=True))
    response = other.get(location)
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 2
    assert "That search is no longer available" in response.content.decode()


@pytest.mark.parametrize(
    "terms",
    [{"since": "not-a-date"}, {"action": "<script>"}, {"patient": "x" * 300}, {"actor": "\x00"}],
)
def test_hostile_audit_searches_are_answered_calmly(client, clinic_admin, terms):
    client.force_login(clinic_admin)
    response = client.post(reverse("audit_log"), terms)
    assert response.status_code == 200  # the form, with what is wrong
    assert "is-invalid" in response.content.decode()
    assert not client.session.get("audit_searches")


@pytest.mark.parametrize("query", [{"page": "-1"}, {"page": "x" * 300}, {"search": "y" * 300}])
def test_hostile_audit_pages_are_answered_calmly(client, clinic_admin, query):
    client.force_login(clinic_admin)
    assert client.get(reverse("audit_log"), query).status_code == 200


def test_every_response_carries_its_request_id_and_the_security_headers(client, patient):
    client.force_login(patient)
    response = client.get(reverse("intake:home"))
    assert len(response["X-Request-ID"]) == 32
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'nonce-" in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'" and policy["object-src"] == "'none'"
    assert client.get(reverse("intake:home"))["X-Request-ID"] != response["X-Request-ID"]


def test_the_page_script_tags_carry_the_nonce(client, patient):
    client.force_login(patient)
    response = client.get(reverse("intake:home"))
    nonce = response["Content-Security-Policy"].split("'nonce-")[1].split("'")[0]
    body = response.content.decode()
    assert body.count("<script") == body.count(f'nonce="{nonce}"')


def test_uploaded_files_are_downloads_that_browsers_may_not_sniff(client, world: World):
    client.force_login(world.users["physician"])
    response = client.get(reverse("intake:file", args=world.args["intake:file"]))
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
