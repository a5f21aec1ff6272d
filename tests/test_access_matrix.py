"""Who may open what, for every URL the project has: each URL name x method (GET,
POST) x persona has an expected outcome below. The URL list is read from the URL
configuration, so a new URL without an entry fails ``test_every_url_has_an_entry``
and no page can escape this table.

Outcomes: ``200``, ``302`` (a redirect that is not to the login page), ``login`` (sent
to log in), ``403``, ``404``, ``405``, ``409``. POSTs carry no data (the point is who
gets in, not what the form does) and run in a savepoint that is rolled back, so each
persona meets the same world. Set ``ACCESS_MATRIX_PRINT=1`` to print the table the
app answers today (to review a change, never to paste blindly).

Django's admin stands for all its pages as one row (``admin:index``); what it holds is
pinned by ``ADMIN_MODELS``: configuration, accounts and sign-in records, never care.
The "admin" persona is a superuser, and still opens no clinical page, here or in
``/admin/``."""

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from PIL import Image

from care.services import followups, instructions, plans, procedures
from clinic.models import User
from clinic.roles import Role
from intake import cases, services
from intake.models import Case, Consultation, ConsultationType, InformationRequest
from intake.scheduling import consultation_book, consultation_change_request, free_slots
from tests.care.followup_helpers import answers as followup_answers
from tests.care.followup_helpers import open_six_weeks, treat
from tests.care.helpers import billing_provider, latest_estimate, shared_plan
from tests.conftest import ClinicClient
from tests.factories import (
    PhysicianFactory,
    UserFactory,
    case_to_book,
    submitted_case,
    working_hours,
)
from treatments.models import TreatmentOption

PERSONAS = ("anon", "patient_a", "patient_b", "physician", "other_physician", "desk", "admin")
METHODS = ("GET", "POST")

# URL name -> method -> outcome for each persona, in the order of PERSONAS.
EXPECTED: dict[str, dict[str, str]] = {
    # The search is posted (names stay out of URLs) and answered by a redirect.
    "audit_log": {"GET": "login 403 403 403 403 403 200", "POST": "login 403 403 403 403 403 302"},
    # Asked by the sign-out warning; says only whether one is signed in, and how long.
    "session": {"GET": "200 200 200 200 200 200 200", "POST": "200 200 200 200 200 200 200"},
    # The language switch: patients and visitors; staff pages are always English.
    "language_set": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "302 302 302 403 403 403 403",
    },
    # Everyone here has already given their second factor (see test_login_security).
    "two_factor_recovery": {
        "GET": "login 403 403 200 200 200 200",
        "POST": "login 403 403 302 302 302 302",
    },
    "two_factor_setup": {
        "GET": "login 403 403 302 302 302 302",
        "POST": "login 403 403 302 302 302 302",
    },
    "two_factor_verify": {
        "GET": "login 403 403 200 200 200 200",
        "POST": "login 403 403 200 200 200 200",
    },
    "admin:index": {"GET": "302 302 302 302 302 302 200", "POST": "302 302 302 302 302 302 200"},
    # Care after the consultation: plans are the case's own physician's (a colleague
    # gets a 404); estimates are the patient's, physicians' and the front desk's.
    "care:estimate": {
        "GET": "login 200 404 200 200 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "care:estimate_download": {
        "GET": "login 200 404 200 200 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "care:estimate_acknowledge": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 302 404 403 403 403 403",
    },
    "care:estimate_issue": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 403 403 302 302",
    },
    "care:estimate_request": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 302 404 403 403 403 403",
    },
    "care:instruction_drop": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 302 404 403 403",
    },
    "care:instruction_edit": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 200 404 403 403",
    },
    "care:instructions_approve": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 302 404 403 403",
    },
    "care:instructions_draft": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 302 404 403 403",
    },
    "care:instructions_acknowledge": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 302 404 403 403 403 403",
    },
    # Recording is the case's physician's; the recall list physicians' and admins'.
    "care:procedure_record": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 200 404 403 403",
    },
    "care:lot_recall": {
        "GET": "login 403 403 200 200 403 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "care:procedure_book": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "login 403 403 403 403 200 200",
    },
    "care:estimates": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "care:patient_care": {
        "GET": "login 200 404 403 403 403 403",
        "POST": "405 405 405 405 405 405 405",
    },
    # Follow-ups: the questionnaire is the patient's own; the review is the case's
    # physician's; the call list the front desk's; the report (counts only) physicians'
    # and clinic admins'.
    "care:followup": {
        "GET": "login 200 404 403 403 403 403",
        "POST": "login 200 404 403 403 403 403",
    },
    "care:followup_preferences": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 302 302 403 403 403 403",
    },
    "care:followup_review": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 302 404 403 403",
    },
    "care:followup_calls": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "care:followup_call": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 403 403 200 200",
    },
    "care:outcomes": {
        "GET": "login 403 403 200 200 403 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "care:plan": {"GET": "login 403 403 200 404 403 403", "POST": "login 403 403 200 404 403 403"},
    "care:plan_item": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 200 404 403 403",
    },
    "care:plan_revise": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 200 404 403 403",
    },
    "care:plan_share": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 302 404 403 403",
    },
    "frontdesk:book": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "login 403 403 403 403 200 200",
    },
    "frontdesk:cancel": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 403 403 200 200",
    },
    "frontdesk:check_in": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 403 403 302 302",
    },
    "frontdesk:complete": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 403 403 302 302",
    },
    "frontdesk:consultation": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "frontdesk:day": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "frontdesk:home": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "frontdesk:incomplete": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "frontdesk:incomplete_remind": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 403 403 302 302",
    },
    "frontdesk:no_show": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 403 403 302 302",
    },
    "frontdesk:request_handled": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 403 403 302 302",
    },
    "frontdesk:reschedule": {
        "GET": "login 403 403 403 403 200 200",
        "POST": "login 403 403 403 403 200 200",
    },
    # Browsers ask for it on every page: a redirect to the static icon.
    "favicon": {"GET": "302 302 302 302 302 302 302", "POST": "405 405 405 405 405 405 405"},
    "healthz": {"GET": "200 200 200 200 200 200 200", "POST": "405 405 405 405 405 405 405"},
    "home": {"GET": "200 200 200 200 200 200 200", "POST": "405 405 405 405 405 405 405"},
    "intake:consultation_calendar": {
        "GET": "login 200 404 403 403 403 403",
        "POST": "405 405 405 405 405 405 405",
    },
    "intake:consultation_change": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 200 404 403 403 403 403",
    },
    "intake:detail": {
        "GET": "login 200 404 403 403 403 403",
        "POST": "405 405 405 405 405 405 405",
    },
    "intake:file": {"GET": "login 200 404 200 200 403 403", "POST": "405 405 405 405 405 405 405"},
    "intake:file_remove": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 302 404 403 403 403 403",
    },
    "intake:home": {"GET": "login 200 200 403 403 403 403", "POST": "405 405 405 405 405 405 405"},
    "intake:information_answer": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 200 404 403 403 403 403",
    },
    "intake:new": {"GET": "405 405 405 405 405 405 405", "POST": "login 302 302 403 403 403 403"},
    "intake:signup": {"GET": "200 302 302 302 302 302 302", "POST": "200 302 302 302 302 302 302"},
    "intake:step": {
        "GET": "login 200 404 403 403 403 403",
        "POST": "login 200 404 403 403 403 403",
    },
    "login": {"GET": "200 200 200 200 200 200 200", "POST": "200 200 200 200 200 200 200"},
    "logout": {"GET": "405 405 405 405 405 405 405", "POST": "302 302 302 302 302 302 302"},
    "password_change": {
        "GET": "login 200 200 200 200 200 200",
        "POST": "login 200 200 200 200 200 200",
    },
    "password_change_done": {
        "GET": "login 200 200 200 200 200 200",
        "POST": "login 405 405 405 405 405 405",
    },
    "password_reset": {"GET": "200 200 200 200 200 200 200", "POST": "200 200 200 200 200 200 200"},
    "password_reset_complete": {
        "GET": "200 200 200 200 200 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    "password_reset_confirm": {
        "GET": "200 200 200 200 200 200 200",
        "POST": "200 200 200 200 200 200 200",
    },
    "password_reset_done": {
        "GET": "200 200 200 200 200 200 200",
        "POST": "405 405 405 405 405 405 405",
    },
    # FHIR downloads: a case by its own physician only (a colleague gets a 404, the
    # front desk a 403); a patient's own record by the patient.
    "records:case_fhir": {
        "GET": "login 403 403 200 404 403 403",
        "POST": "405 405 405 405 405 405 405",
    },
    "records:my_record": {
        "GET": "login 200 200 403 403 403 403",
        "POST": "405 405 405 405 405 405 405",
    },
    "records:my_record_fhir": {
        "GET": "login 200 200 403 403 403 403",
        "POST": "405 405 405 405 405 405 405",
    },
    "review:ask": {"GET": "405 405 405 405 405 405 405", "POST": "login 403 403 200 200 403 403"},
    "review:calendar": {
        "GET": "login 403 403 200 200 403 403",
        "POST": "405 405 405 405 405 405 405",
    },
    "review:candidate": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 200 200 403 403",
    },
    "review:case": {"GET": "login 403 403 200 200 403 403", "POST": "405 405 405 405 405 405 405"},
    "review:case_print": {
        "GET": "login 403 403 200 200 403 403",
        "POST": "405 405 405 405 405 405 405",
    },
    "review:claim": {"GET": "405 405 405 405 405 405 405", "POST": "login 403 403 302 302 403 403"},
    "review:imaging": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 200 200 403 403",
    },
    "review:next": {"GET": "405 405 405 405 405 405 405", "POST": "login 403 403 302 302 403 403"},
    "review:not_candidate": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 200 200 403 403",
    },
    "review:queue": {"GET": "login 403 403 200 200 403 403", "POST": "405 405 405 405 405 405 405"},
    "review:reassign": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 200 200 403 403",
    },
    "review:release": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 403 403 302 302 403 403",
    },
    "role_home": {"GET": "login 302 302 302 302 302 302", "POST": "405 405 405 405 405 405 405"},
    "verify_email": {"GET": "200 200 200 200 200 200 200", "POST": "200 200 200 200 200 200 200"},
    "verify_email_resend": {
        "GET": "405 405 405 405 405 405 405",
        "POST": "login 302 302 302 302 302 302",
    },
}


def _walk(patterns: list[Any], namespace: str = "") -> Iterator[str]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                yield "admin:index"  # the admin's own permission checks guard the rest
                continue
            yield from _walk(pattern.url_patterns, pattern.namespace or namespace)
        elif isinstance(pattern, URLPattern):
            yield f"{namespace}:{pattern.name}" if namespace else str(pattern.name)


def url_names() -> list[str]:
    return sorted(set(_walk(get_resolver().url_patterns)))


@dataclass
class World:
    """One of everything, owned by patient A and worked by the assigned physician."""

    users: dict[str, User | None]
    args: dict[str, list[Any]]


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def world(db: None) -> World:
    patient_a = UserFactory.create(role=Role.PATIENT)
    patient_b = UserFactory.create(role=Role.PATIENT)
    physician = PhysicianFactory.create(regions=["knee", "hip"]).user
    other_physician = PhysicianFactory.create(regions=["spine"]).user
    desk = UserFactory.create(role=Role.FRONT_DESK)
    admin = UserFactory.create(role=Role.CLINIC_ADMIN, is_staff=True, is_superuser=True)
    working_hours(physician.physician_profile, weekdays=range(7))

    # A case waiting for the patient's answer...
    asked = submitted_case(patient_a)
    cases.case_claim(case=asked, physician=physician)
    question = cases.case_request_information(
        case=asked, physician=physician, question="Does it swell?"
    )
    # ...one waiting to be booked, one booked with a patient's request, and a draft with
    # an uploaded image.
    to_book = case_to_book(physician, patient=patient_a)
    booked_case = case_to_book(physician, patient=patient_a)
    slot = free_slots(
        physician=physician.physician_profile,
        consultation_type=ConsultationType.objects.get(slug="new-consultation"),
        start_day=timezone.localdate() + timedelta(days=2),
        days=3,
    )[0]
    consultation = consultation_book(case=booked_case, starts_at=slot.starts_at, booked_by=desk)
    change = consultation_change_request(
        consultation=consultation, patient=patient_a, kind="reschedule"
    )
    # A case with a shared plan, its estimate, and a new draft version.
    billing_provider()
    cared = case_to_book(physician, patient=patient_a)
    shared = shared_plan(cared, physician, "prp")
    revised = plans.plan_revise(plan=shared, physician=physician, reason="A second session")
    estimate = latest_estimate(cared)
    draft_item = revised.items.get()
    procedure = procedures.procedure_book(
        case=cared,
        starts_at=free_slots(
            physician=physician.physician_profile,
            consultation_type=procedures.procedure_type(),
            start_day=timezone.localdate() + timedelta(days=2),
            days=3,
        )[0].starts_at,
        booked_by=desk,
    )
    instructions.instructions_draft(procedure=procedure, physician=physician)
    instructions.instructions_approve(procedure=procedure, physician=physician)
    # Patient A treated twice: the left knee's 6-week follow-up open, the right knee's
    # answered with a complication (it needs the physician).
    open_followup = open_six_weeks(
        treat(case_to_book(physician, patient=patient_a), physician, desk)
    )
    attention = open_six_weeks(
        treat(case_to_book(physician, patient=patient_a), physician, desk, side="right")
    )
    followups.followup_answer(
        followup=attention, patient=patient_a, answers=followup_answers(fever=True)
    )
    draft = services.intake_start(patient=patient_a)
    image = services.imaging_file_add(
        intake=draft,
        upload=SimpleUploadedFile("knee.png", _png(), content_type="image/png"),
        content_type="image/png",
        max_files=10,
    )
    assert isinstance(question, InformationRequest) and isinstance(consultation, Consultation)
    args: dict[str, list[Any]] = {
        "verify_email": ["MQ", "set-password"],
        "password_reset_confirm": ["MQ", "set-password"],
        "intake:detail": [asked.intake.public_id],
        "intake:step": [draft.public_id, 1],
        "intake:file_remove": [draft.public_id, image.public_id],
        "intake:information_answer": [asked.intake.public_id, question.public_id],
        "intake:file": [image.public_id],
        "intake:consultation_change": [consultation.public_id],
        "intake:consultation_calendar": [consultation.public_id],
        "frontdesk:incomplete_remind": [draft.public_id],
        "frontdesk:book": [to_book.public_id],
        "frontdesk:request_handled": [change.public_id],
        "care:plan": [cared.public_id],
        "care:plan_share": [revised.public_id],
        "care:plan_revise": [shared.public_id],
        "care:plan_item": [draft_item.public_id],
        "care:patient_care": [cared.public_id],
        "care:estimate_request": [cared.public_id],
        "care:estimate": [estimate.public_id],
        "care:estimate_download": [estimate.public_id],
        "care:estimate_acknowledge": [estimate.public_id],
        "care:estimate_issue": [cared.public_id],
        "care:procedure_book": [cared.public_id],
        "care:instructions_acknowledge": [procedure.public_id],
        "care:instructions_draft": [procedure.public_id],
        "care:procedure_record": [procedure.public_id],
        "care:lot_recall": [],
        "care:instructions_approve": [procedure.public_id],
        "care:instruction_edit": [procedure.instructions.all()[0].public_id],
        "care:instruction_drop": [procedure.instructions.all()[0].public_id],
        "care:followup": [open_followup.public_id],
        "care:followup_call": [open_followup.public_id],
        "care:followup_review": [attention.public_id],
    }
    for name in ("case", "case_print", "claim", "release", "reassign", "ask", "imaging"):
        args[f"review:{name}"] = [asked.public_id]
    args["records:case_fhir"] = [asked.public_id]
    for name in ("candidate", "not_candidate"):
        args[f"review:{name}"] = [asked.public_id]
    for name in ("consultation", "reschedule", "check_in", "complete", "no_show", "cancel"):
        args[f"frontdesk:{name}"] = [consultation.public_id]
    users: dict[str, User | None] = {
        "anon": None,
        "patient_a": patient_a,
        "patient_b": patient_b,
        "physician": physician,
        "other_physician": other_physician,
        "desk": desk,
        "admin": admin,
    }
    return World(users=users, args=args)


def outcome(response: Any) -> str:
    if response.status_code == 302:
        return "login" if response["Location"].startswith(reverse("login")) else "302"
    return str(response.status_code)


def answers(world: World, name: str, method: str) -> str:
    """What each persona gets, in PERSONAS order, as one line."""
    address = reverse(name, args=world.args.get(name, []))
    got = []
    for persona in PERSONAS:
        client = ClinicClient()
        user = world.users[persona]
        if user is not None:
            client.force_login(user)
        with transaction.atomic():
            response = client.get(address) if method == "GET" else client.post(address)
            transaction.set_rollback(True)
        got.append(outcome(response))
    return " ".join(got)


def test_every_url_has_an_entry() -> None:
    missing = [name for name in url_names() if name not in EXPECTED]
    assert not missing, f"URLs with no row in the access matrix: {missing}"
    stale = [name for name in EXPECTED if name not in url_names()]
    assert not stale, f"rows for URLs that no longer exist: {stale}"


@pytest.mark.parametrize("name", url_names())
def test_each_persona_gets_what_the_matrix_says(world: World, name: str) -> None:
    got = {method: answers(world, name, method) for method in METHODS}
    if os.environ.get("ACCESS_MATRIX_PRINT"):
        print(f'\n    "{name}": {{"GET": "{got["GET"]}", "POST": "{got["POST"]}"}},')
    assert got == EXPECTED.get(name), name


@pytest.mark.parametrize(
    "name",
    ["intake:home", "intake:detail", "review:case", "review:case_print", "frontdesk:consultation"],
)
def test_pages_for_signed_in_people_are_never_stored(world: World, name: str) -> None:
    owner = {"intake": "patient_a", "review": "physician", "frontdesk": "desk"}[name.split(":")[0]]
    client = ClinicClient()
    client.force_login(world.users[owner])
    response = client.get(reverse(name, args=world.args.get(name, [])))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    assert (
        ClinicClient().get(reverse("home")).get("Cache-Control", "") == ""
    )  # public pages may cache


# Every model the admin site shows. Care (intakes and their answers, cases, flags,
# decisions, notes, imaging, consultations) and django-pghistory's change history
# (which copies it) are absent, for every account, a superuser included.
ADMIN_MODELS = {
    "auth.Group",
    "axes.AccessAttempt",
    "axes.AccessFailureLog",
    "axes.AccessLog",
    # Care's configuration (prices, billing details, closures, disclaimer texts,
    # instruction templates); no plan, estimate or procedure of a patient.
    "care.BillableItem",
    "care.BillingProvider",
    "care.ClinicHoliday",
    "care.EstimateDisclaimer",
    "care.FollowUpTimepoint",
    "care.InstructionTemplate",
    "clinic.OutboundEmail",  # e-mails carry no health details (test_no_health_data_leaks)
    "clinic.PhysicianProfile",
    "clinic.User",
    "intake.ConsentDocument",
    "intake.Instrument",
    "otp_static.StaticDevice",
    "otp_totp.TOTPDevice",
    "treatments.BodyRegion",
    "treatments.Condition",
    "treatments.Contraindication",
    "treatments.RedFlag",
    "treatments.TreatmentOption",
}


def test_the_admin_shows_configuration_and_accounts_only() -> None:
    from django.contrib import admin

    assert {model._meta.label for model in admin.site._registry} == ADMIN_MODELS


def test_a_superuser_gets_no_clinical_page_in_the_admin(world: World) -> None:
    superuser = world.users["admin"]
    assert superuser is not None and superuser.is_superuser
    client = ClinicClient()
    client.force_login(superuser)
    case = Case.objects.filter(patient=world.users["patient_a"]).first()
    assert case is not None
    for address in (
        "/admin/intake/case/",
        f"/admin/intake/case/{case.pk}/change/",
        "/admin/intake/intake/",
        f"/admin/intake/intake/{case.intake_id}/change/",
        "/admin/intake/caseflag/",
        "/admin/intake/reviewdecision/",
        "/admin/pghistory/events/",
        f"/admin/pghistory/events/?obj=intake.Intake:{case.intake_id}",
    ):
        assert client.get(address).status_code == 404, address
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    for word in ("Cases", "Intakes", "Events", case.reference):
        assert word not in index.content.decode(), word


# --- What a refused review action leaves behind -------------------------------------
# The matrix above sees only status codes, and the owning physician and the other one
# get the same answer (302, or 200 with the form). Here each review action is posted
# with valid data on a case in the owner's queue: the other physician is refused (the
# case is as it was, and the page says why), and the owner's same POST goes through.

REVIEW_ACTIONS: dict[str, Any] = {
    "review:claim": lambda w: {},
    "review:release": lambda w: {},
    "review:reassign": lambda w: {
        "reassign-physician": w["third"].pk,
        "reassign-reason": "Hips are their field.",
    },
    "review:ask": lambda w: {"ask-question": "Does it swell after walking?"},
    "review:imaging": lambda w: {
        "imaging-modality": "mri",
        "imaging-region": w["case"].body_region_id,
        "imaging-message_to_patient": "",
        "imaging-internal_note": "",
    },
    "review:candidate": lambda w: {
        "candidate-options": [TreatmentOption.objects.get(slug="prp").pk],
        "candidate-consultation_type": "new",
        "candidate-consultation_mode": "in_person",
        "candidate-urgency": "routine",
        "candidate-message_to_patient": "",
        "candidate-internal_note": "",
    },
    "review:not_candidate": lambda w: {
        "decline-reason": "Needs a surgeon.",
        "decline-message_to_patient": "Please see your surgeon.",
        "decline-internal_note": "",
    },
}


def _case_outcome(case: Case) -> tuple[Any, ...]:
    case = Case.objects.get(pk=case.pk)
    return (
        case.state,
        case.assigned_to_id,
        case.events.count(),
        case.decisions.count(),
        case.information_requests.count(),
    )


def test_every_review_action_has_a_refusal_row() -> None:
    # Every review URL that takes a POST acts on one case, except "next case".
    review_posts = {
        name
        for name, row in EXPECTED.items()
        if name.startswith("review:") and set(row["POST"].split()) != {"405"}
    }
    assert review_posts - {"review:next"} == set(REVIEW_ACTIONS)


@pytest.mark.parametrize("name", sorted(REVIEW_ACTIONS))
def test_the_other_physician_is_refused_and_the_case_is_unchanged(world: World, name: str) -> None:
    physician, other = world.users["physician"], world.users["other_physician"]
    patient = world.users["patient_a"]
    assert physician is not None and other is not None and patient is not None
    third = PhysicianFactory.create(regions=["hip"]).user
    # A case in the physician's queue (handed over by a colleague, not yet claimed).
    case = submitted_case(patient, route=False)
    cases.case_claim(case=case, physician=third)
    cases.case_reassign(case=case, physician=third, to=physician, reason="Knee specialist.")
    data = REVIEW_ACTIONS[name]({"case": case, "third": third})
    address = reverse(name, args=[case.public_id])
    before = _case_outcome(case)

    refused = ClinicClient()
    refused.force_login(other)
    with transaction.atomic():
        response = refused.post(address, data, follow=True)
        after = _case_outcome(case)
        transaction.set_rollback(True)
    assert response.status_code == 200
    assert after == before, name
    assert "is already in the queue of" in response.content.decode(), name

    # The owner's same POST is accepted: the refusal above was about the case's owner.
    owner = ClinicClient()
    owner.force_login(physician)
    with transaction.atomic():
        owner.post(address, data)
        accepted = _case_outcome(case)
        transaction.set_rollback(True)
    assert accepted != before, name
