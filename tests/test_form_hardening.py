"""Every form a person can send, sent the way an attacker would.

Mass assignment: each row of ``FORMS`` is one form (URL, who sends it, valid data,
what the form is meant to change). It is posted twice, each time in a savepoint that
is rolled back: once as the page sends it, once with extra fields added (every field
of the clinic's models, under its own name, its ``_id`` name and the form's prefix,
with values that would matter: another patient, another physician, a final state,
staff rights, dates in 2001). The database after the second POST must equal the
database after the first, so the extra fields changed nothing the form itself does
not. The clock is stopped during both POSTs, so the times they write are equal.

CSRF: the same valid POST from a client that enforces CSRF checks, without a token,
is refused by Django's CSRF check and changes nothing; with the token from the page's
cookie it goes through. A GET to any of these URLs changes nothing either.

The list of URLs is read from the URL configuration (and the access matrix's table of
which of them accept a POST), so a new form without a row fails
``test_every_form_has_a_row``."""

import io
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, TypeVar
from unittest import mock

import pghistory.models
import pytest
from django.apps import apps
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image

from care.models import (
    EstimateAcknowledgement,
    FollowUp,
    FollowUpPreference,
    FollowUpResponse,
    GoodFaithEstimate,
    InstructionAcknowledgement,
    PlanItem,
    ProcedureInstruction,
    ProcedureRecord,
    TreatmentPlan,
)
from care.services import followups, instructions, plans, procedures
from clinic import two_factor
from clinic.models import OutboundEmail, User
from clinic.roles import Role, role_of
from clinic.tokens import email_verification_tokens
from intake import cases, scheduling, services
from intake.models import (
    Case,
    Consultation,
    ConsultationChangeRequest,
    ImagingFile,
    InformationRequest,
    Intake,
    ReviewDecision,
)
from tests.care.followup_helpers import answers as followup_answers
from tests.care.followup_helpers import form_data, open_six_weeks, treat
from tests.care.helpers import billing_provider, latest_estimate, shared_plan
from tests.conftest import ClinicClient, current_code, second_factor_device
from tests.factories import (
    PASSWORD,
    PhysicianFactory,
    UserFactory,
    case_to_book,
    intake_ready_to_sign,
    submitted_case,
    working_hours,
)
from tests.intake.step_posts import STEP_POSTS, consent_post, imaging_post
from tests.test_access_matrix import EXPECTED, url_names
from treatments.models import BodyRegion, Priority, TreatmentOption

M = TypeVar("M", bound=models.Model)

NEW_PASSWORD = "a-much-longer-passphrase-42"


# --- The world: one of everything each form acts on ----------------------------------


@dataclass
class World:
    users: dict[str, User | None]
    patient: User
    victim: User  # another patient, whose records an attacker would point at
    newcomer: User  # a patient with no intake yet and an unconfirmed address
    physician: User
    other_physician: User
    desk: User
    draft: Intake  # ready to sign, with one uploaded image
    image: ImagingFile
    asked: Case  # waiting for the patient's answer to ``question``
    question: InformationRequest
    pool_case: Case  # submitted, nobody's yet
    mine_case: Case  # under review by ``physician``
    to_book: Case  # the physician asked for a consultation
    booked: Consultation  # booked, nothing asked
    requested: Consultation  # booked; the patient asked to move it (``change``)
    change: ConsultationChangeRequest
    arriving: Consultation  # booked for today: the patient can check in
    checked_in: Consultation  # the victim's, checked in
    free_at: datetime  # a free time of the physician for a new consultation
    emails_sent: int  # the outbox's last primary key once the world was made
    new_staff: User  # signed in with a password, setting up their authenticator
    planned: Case  # a shared plan (version 1, with its estimate) and a draft version 2
    draft_plan: TreatmentPlan  # version 2 of ``planned``
    draft_item: PlanItem  # its one line
    estimate: GoodFaithEstimate  # issued from version 1 of ``planned``
    shared_only: Case  # one shared plan, nothing else
    procedure_at: datetime  # a free time of the physician for a procedure
    procedure: Consultation  # a booked procedure with approved instructions
    pending: Consultation  # a booked procedure with instructions not yet approved
    pending_nsaid: ProcedureInstruction  # one of them
    today_procedure: Consultation  # an allograft procedure booked for today, begun
    followup: FollowUp  # the patient's 6-week follow-up, open
    attention: FollowUp  # another patient's, answered with a complication


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _book(case: Case, desk: User, *, days_ahead: int = 2) -> Consultation:
    request = scheduling.booking_request(case)
    slot = scheduling.free_slots(
        physician=case.assigned_to.physician_profile,  # type: ignore[union-attr]
        consultation_type=request.consultation_type,
        start_day=timezone.localdate() + timedelta(days=days_ahead),
        days=5,
    )[0]
    return scheduling.consultation_book(case=case, starts_at=slot.starts_at, booked_by=desk)


@pytest.fixture
def world(db: None, time_machine: Any) -> World:
    # 08:00 today in the clinic's time zone (the clock ticks from there), so there
    # are free times today to book and check in, whatever the hour the tests run.
    morning = datetime.combine(
        timezone.localdate(), time(8), tzinfo=timezone.get_current_timezone()
    )
    time_machine.move_to(morning.astimezone(UTC))
    patient = UserFactory.create(role=Role.PATIENT)
    victim = UserFactory.create(role=Role.PATIENT)
    newcomer = UserFactory.create(role=Role.PATIENT)
    physician = PhysicianFactory.create(regions=["knee", "hip"]).user
    other_physician = PhysicianFactory.create(regions=["spine"]).user
    desk = UserFactory.create(role=Role.FRONT_DESK)
    admin = UserFactory.create(role=Role.CLINIC_ADMIN, is_staff=True, is_superuser=True)
    new_staff = UserFactory.create(role=Role.FRONT_DESK)
    two_factor.authenticator_pending(new_staff)  # as the setup page's first visit does
    second_factor_device(physician)
    working_hours(physician.physician_profile, weekdays=range(7))

    asked = submitted_case(patient)
    cases.case_claim(case=asked, physician=physician)
    question = cases.case_request_information(
        case=asked, physician=physician, question="Does it swell?"
    )
    pool_case = submitted_case(patient, route=False)
    mine_case = submitted_case(patient, route=False)
    cases.case_claim(case=mine_case, physician=physician)
    to_book = case_to_book(physician, patient=patient)
    booked = _book(case_to_book(physician, patient=patient), desk)
    requested = _book(case_to_book(physician, patient=patient), desk)
    change = scheduling.consultation_change_request(
        consultation=requested, patient=patient, kind="reschedule"
    )
    arriving = _book(case_to_book(physician, patient=patient), desk, days_ahead=0)
    checked_in = scheduling.consultation_move(
        consultation=_book(case_to_book(physician, patient=victim), desk, days_ahead=0),
        action="check_in",
        by=desk,
    )
    free_at = scheduling.free_slots(
        physician=physician.physician_profile,
        consultation_type=booked.consultation_type,
        start_day=timezone.localdate() + timedelta(days=2),
        days=5,
    )[0].starts_at
    billing_provider()
    planned = case_to_book(physician, patient=patient)
    first_version = shared_plan(planned, physician, "prp")
    draft_plan = plans.plan_revise(plan=first_version, physician=physician, reason="Two knees")
    shared_only = case_to_book(physician, patient=patient)
    shared_plan(shared_only, physician, "prp")
    with_procedure = case_to_book(physician, patient=patient)
    shared_plan(with_procedure, physician, "prp")
    procedure = procedures.procedure_book(
        case=with_procedure,
        starts_at=scheduling.free_slots(
            physician=physician.physician_profile,
            consultation_type=procedures.procedure_type(),
            # Well after ``free_at``, which the booking rows take.
            start_day=timezone.localdate() + timedelta(days=20),
            days=5,
        )[0].starts_at,
        booked_by=desk,
    )
    instructions.instructions_draft(procedure=procedure, physician=physician)
    instructions.instructions_approve(procedure=procedure, physician=physician)
    # A second booked procedure, with its instructions drafted and not approved.
    unapproved = case_to_book(physician, patient=patient)
    shared_plan(unapproved, physician, "bone-marrow-stem-cells", harvest_source="bone_marrow")
    pending = procedures.procedure_book(
        case=unapproved,
        starts_at=scheduling.free_slots(
            physician=physician.physician_profile,
            consultation_type=procedures.procedure_type(),
            # Well after ``free_at``, which the booking rows take.
            start_day=timezone.localdate() + timedelta(days=20),
            days=5,
        )[0].starts_at,
        booked_by=desk,
    )
    instructions.instructions_draft(procedure=pending, physician=physician)
    # An allograft procedure today, after the two consultations above: its record is
    # accepted only on its day and once it has begun, so the clock moves past its start
    # below, when everything else is booked (still today: the day's hours are 09-17).
    allograft_case = case_to_book(physician, patient=patient)
    shared_plan(allograft_case, physician, "allograft")
    today_procedure = procedures.procedure_book(
        case=allograft_case,
        starts_at=scheduling.free_slots(
            physician=physician.physician_profile,
            consultation_type=procedures.procedure_type(),
            start_day=timezone.localdate(),
            days=1,
        )[0].starts_at,
        booked_by=desk,
    )
    # A treated case of the patient with its 6-week follow-up open, and another
    # patient's whose answers need the physician.
    followup = open_six_weeks(treat(case_to_book(physician, patient=patient), physician, desk))
    third = UserFactory.create(role=Role.PATIENT)
    attention = open_six_weeks(treat(case_to_book(physician, patient=third), physician, desk))
    followups.followup_answer(
        followup=attention, patient=third, answers=followup_answers(fever=True)
    )
    # Last: a patient has one draft at a time, and submitting the cases above used it.
    draft = intake_ready_to_sign(patient)
    image = services.imaging_file_add(
        intake=draft,
        upload=SimpleUploadedFile("knee.png", _png(), content_type="image/png"),
        content_type="image/png",
        max_files=10,
    )
    procedure_at = scheduling.free_slots(
        physician=physician.physician_profile,
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=2),
        days=5,
    )[0].starts_at
    time_machine.move_to(today_procedure.starts_at + timedelta(minutes=30))
    assert timezone.localdate() == morning.date()
    return World(
        users={
            "anon": None,
            "patient": patient,
            "newcomer": newcomer,
            "physician": physician,
            "desk": desk,
            "admin": admin,
            "new staff, password only": new_staff,
            "physician, password only": physician,
        },
        patient=patient,
        victim=victim,
        newcomer=newcomer,
        physician=physician,
        other_physician=other_physician,
        desk=desk,
        draft=draft,
        image=image,
        asked=asked,
        question=question,
        pool_case=pool_case,
        mine_case=mine_case,
        to_book=to_book,
        booked=booked,
        requested=requested,
        change=change,
        arriving=arriving,
        checked_in=checked_in,
        free_at=free_at,
        emails_sent=OutboundEmail.objects.order_by("-pk").values_list("pk", flat=True)[0],
        new_staff=new_staff,
        planned=planned,
        draft_plan=draft_plan,
        draft_item=draft_plan.items.get(),
        estimate=latest_estimate(planned),
        shared_only=shared_only,
        procedure=procedure,
        pending=pending,
        pending_nsaid=pending.instructions.get(text__startswith="do not take ibuprofen"),
        procedure_at=procedure_at,
        today_procedure=today_procedure,
        followup=followup,
        attention=attention,
    )


def _signed_in(w: World, persona: str, **client_options: Any) -> Client:
    """A client signed in as the persona: staff have given their second factor too,
    unless the persona says 'password only'."""
    client = ClinicClient(**client_options)
    user = w.users[persona]
    if user is not None and persona.endswith("password only"):
        client.password_only_login(user)
    elif user is not None:
        client.force_login(user)
    return client


def _fresh(instance: M) -> M:
    return type(instance)._default_manager.get(pk=instance.pk)


# --- The forms ----------------------------------------------------------------------

Expectation = tuple[str, Any, Any]  # what, as it is after the POST, as the form makes it


@dataclass(frozen=True)
class Form:
    name: str  # the URL's name
    persona: str  # a key of World.users
    url: Callable[[World, Client], str]
    data: Callable[[World], dict[str, Any]]
    # What the legitimate POST does, checked after both POSTs: proof that the form was
    # accepted (a refused form would trivially change nothing).
    expect: Callable[[World], list[Expectation]]
    prefixes: tuple[str, ...] = ()  # the form's prefixes, which extra fields also get
    status: int = 302
    get: int = 405  # what a GET answers; it must change nothing either way
    step: str = ""  # tells apart the rows of one URL in test ids
    changes: bool = True  # False: what it changes is the session, which is not watched

    @property
    def id(self) -> str:
        return f"{self.name} {self.step}".strip()


def to(name: str, *args: Callable[[World], Any]) -> Callable[[World, Client], str]:
    return lambda w, client: reverse(name, args=[arg(w) for arg in args])


def _reset_link(w: World, client: Client) -> str:
    """Opens the e-mailed link (Django keeps the token in the session and redirects)
    and returns the address the new password is posted to."""
    uid = urlsafe_base64_encode(force_bytes(w.patient.pk))
    token = default_token_generator.make_token(w.patient)
    response = client.get(reverse("password_reset_confirm", args=[uid, token]))
    assert response.status_code == 302, response
    return str(response["Location"])


def _verify_link(w: World, client: Client) -> str:
    uid = urlsafe_base64_encode(force_bytes(w.newcomer.pk))
    return reverse("verify_email", args=[uid, email_verification_tokens.make_token(w.newcomer)])


def _step(number: int) -> Callable[[World, Client], str]:
    return lambda w, client: reverse("intake:step", args=[w.draft.public_id, number])


def _region(slug: str) -> int:
    return BodyRegion.objects.get(slug=slug).pk


def _prp() -> int:
    return TreatmentOption.objects.get(slug="prp").pk


def _last(queryset: models.QuerySet[M]) -> M:
    last = queryset.order_by("-pk").first()
    assert last is not None, f"no {queryset.model._meta.verbose_name} was made"
    return last


def both(*parts: Callable[[World], list[Expectation]]) -> Callable[[World], list[Expectation]]:
    return lambda w: [check for part in parts for check in part(w)]


def _step_done(number: int, **fields: Any) -> Callable[[World], list[Expectation]]:
    def expect(w: World) -> list[Expectation]:
        draft = _fresh(w.draft)
        checks: list[Expectation] = [
            (f"step {number} done", number in draft.completed_steps, True),
            ("still a draft", draft.status, Intake.Status.DRAFT),
            ("still the patient's", draft.patient_id, w.patient.pk),
        ]
        return checks + [(name, getattr(draft, name), value) for name, value in fields.items()]

    return expect


def _consultation_state(
    state: str, which: Callable[[World], Consultation] = lambda w: w.booked
) -> Callable[[World], list[Expectation]]:
    def expect(w: World) -> list[Expectation]:
        consultation = _fresh(which(w))
        return [
            ("state", consultation.state, state),
            ("patient", consultation.patient_id, w.patient.pk),
            ("physician", consultation.physician_id, w.physician.pk),
        ]

    return expect


def _case_after(
    attribute: str, state: str, assignee: Callable[[World], User | None]
) -> Callable[[World], list[Expectation]]:
    def expect(w: World) -> list[Expectation]:
        case = _fresh(getattr(w, attribute))
        original: Case = getattr(w, attribute)
        who = assignee(w)
        return [
            ("state", case.state, state),
            ("assigned to", case.assigned_to_id, who.pk if who else None),
            ("patient", case.patient_id, original.patient_id),
            ("priority", case.priority, original.priority),
        ]

    return expect


def _signup_expect(w: World) -> list[Expectation]:
    user = User.objects.filter(email="new.patient@clinic.example").first()
    assert user is not None, "the account was not created"
    return [
        ("role", role_of(user), Role.PATIENT),
        ("groups", list(user.groups.values_list("name", flat=True)), ["Patients"]),
        ("staff", (user.is_staff, user.is_superuser, user.is_active), (False, False, True)),
        ("address unconfirmed", user.email_verified_at, None),
        ("permissions", user.user_permissions.count(), 0),
    ]


def _image_upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("mri.png", _png(), content_type="image/png")


def _plan_post(w: World) -> dict[str, Any]:
    return {
        "options": [_prp()],
        "body_region": _region("knee"),
        "side": "right",
        "condition": "",
        "icd10_code": "M17.11",
        "sessions": "2",
        "weeks_between_sessions": "4",
        "guidance": "ultrasound",
        "harvest_source": "",
        "note_to_patient": "Both sessions four weeks apart.",
    }


def _pending_nsaid(w: World) -> ProcedureInstruction:
    return w.pending_nsaid


def _receipt(w: World) -> EstimateAcknowledgement:
    return EstimateAcknowledgement.objects.get(estimate=w.estimate)


def _record_post(w: World) -> dict[str, Any]:
    begun = timezone.localtime(w.today_procedure.starts_at + timedelta(minutes=5))
    return {
        "performed_time": begun.strftime("%H:%M"),
        "option": TreatmentOption.objects.get(slug="allograft").pk,
        "body_region": _region("knee"),
        "side": "left",
        "guidance": "ultrasound",
        "volume_injected_ml": "4.0",
        "harvest_site": "",
        "volume_harvested_ml": "",
        "nucleated_cells_millions": "",
        "product_name": "Amniotic membrane allograft",
        "manufacturer": "Example Tissue Bank",
        "lot_number": "AM-2026-0147",
        "lot_expires_on": "2028-06-30",
        "complication": "none",
        "note": "",
    }


def _recorded(w: World) -> list[Expectation]:
    record = ProcedureRecord.objects.get(consultation=w.today_procedure)
    return [
        ("lot", record.lot_number, "AM-2026-0147"),
        ("kind", record.kind, ProcedureRecord.Kind.DONOR_TISSUE),
        ("of the case", record.case_id, w.today_procedure.case_id),
        ("by", record.physician_id, w.physician.pk),
        ("at", record.performed_at, w.today_procedure.starts_at + timedelta(minutes=5)),
        ("no complication", record.complication, ProcedureRecord.Complication.NONE),
        ("procedure", _fresh(w.today_procedure).state, Consultation.State.COMPLETED),
        ("case", _fresh(w.today_procedure.case).state, Case.State.TREATED),
    ]


def _item_post(w: World) -> dict[str, Any]:
    prefix = f"item-{w.draft_item.public_id}"
    return {f"{prefix}-quantity": "1", f"{prefix}-charge": "950", f"{prefix}-reason": "Agreed"}


FORMS: list[Form] = [
    # --- Patients ----------------------------------------------------------------------
    Form(
        "intake:signup",
        "anon",
        to("intake:signup"),
        lambda w: {
            "full_name": "Nora New",
            "email": "new.patient@clinic.example",
            "password1": NEW_PASSWORD,
            "password2": NEW_PASSWORD,
        },
        _signup_expect,
        get=200,
    ),
    Form(
        "intake:new",
        "newcomer",
        to("intake:new"),
        lambda w: {},
        lambda w: [
            ("draft", Intake.objects.filter(patient=w.newcomer, status="draft").count(), 1),
            ("nothing else", Intake.objects.filter(patient=w.newcomer).count(), 1),
        ],
    ),
    Form(
        "intake:step",
        "patient",
        _step(1),
        lambda w: STEP_POSTS[1](legal_name=w.draft.legal_name, city="Shelbyville"),
        _step_done(1, city="Shelbyville"),
        get=200,
        step="1 about you",
    ),
    Form(
        "intake:step",
        "patient",
        _step(2),
        lambda w: STEP_POSTS[2](),
        _step_done(2),
        prefixes=("complaint-0",),
        get=200,
        step="2 pain",
    ),
    # A step that does not validate keeps what was typed, for later: the step's own
    # fields only.
    Form(
        "intake:step",
        "patient",
        _step(1),
        lambda w: STEP_POSTS[1](legal_name=w.draft.legal_name, date_of_birth="yesterday"),
        lambda w: [("typed answers kept", "1" in _fresh(w.draft).pending_answers, True)],
        status=200,
        get=200,
        step="1 kept while it has errors",
    ),
    Form(
        "intake:step",
        "patient",
        _step(2),
        lambda w: STEP_POSTS[2](
            {
                "body_region": _region("knee"),
                "side": "left",
                "condition": "",
                "started_on": "2024-03-01",
                "onset": "gradual",
                "pain_now": "9",
                "pain_worst_week": "2",
            }
        ),
        lambda w: [("typed answers kept", "2" in _fresh(w.draft).pending_answers, True)],
        prefixes=("complaint-0",),
        status=200,
        get=200,
        step="2 kept while it has errors",
    ),
    Form(
        "intake:step",
        "patient",
        _step(3),
        lambda w: STEP_POSTS[3](value_index=1),
        _step_done(3),
        get=200,
        step="3 function",
    ),
    Form(
        "intake:step",
        "patient",
        _step(4),
        lambda w: STEP_POSTS[4](),
        _step_done(4),
        prefixes=("prior-0",),
        get=200,
        step="4 tried",
    ),
    Form(
        "intake:step",
        "patient",
        _step(5),
        lambda w: STEP_POSTS[5](),
        _step_done(5),
        get=200,
        step="5 health",
    ),
    Form(
        "intake:step",
        "patient",
        _step(6),
        lambda w: (
            imaging_post(
                "yes",
                {
                    "modality": "mri",
                    "body_region": _region("knee"),
                    "done_on": "2024-01-10",
                    "facility": "",
                },
            )
            | {"upload": _image_upload()}
        ),
        both(
            _step_done(6, imaging_status="yes"),
            lambda w: [("files", _fresh(w.draft).imaging_files.count(), 2)],
        ),
        prefixes=("study-0",),
        get=200,
        step="6 imaging with an upload",
    ),
    Form(
        "intake:step",
        "patient",
        _step(7),
        lambda w: STEP_POSTS[7](interested_options=[_prp()]),
        _step_done(7),
        get=200,
        step="7 goals",
    ),
    Form(
        "intake:step",
        "patient",
        _step(8),
        lambda w: consent_post(name=w.draft.legal_name),
        lambda w: [
            ("submitted", _fresh(w.draft).status, Intake.Status.SUBMITTED),
            ("the patient's case", _fresh(w.draft).case.patient_id, w.patient.pk),
            ("nobody's yet", _fresh(w.draft).case.assigned_to_id, None),
            ("routine", _fresh(w.draft).case.priority, Priority.ROUTINE),
            ("new", _fresh(w.draft).case.state, Case.State.SUBMITTED),
        ],
        get=200,
        step="8 sign and submit",
    ),
    Form(
        "intake:file_remove",
        "patient",
        to("intake:file_remove", lambda w: w.draft.public_id, lambda w: w.image.public_id),
        lambda w: {},
        lambda w: [("files", _fresh(w.draft).imaging_files.count(), 0)],
    ),
    Form(
        "intake:information_answer",
        "patient",
        to(
            "intake:information_answer",
            lambda w: w.asked.intake.public_id,
            lambda w: w.question.public_id,
        ),
        lambda w: {f"{w.question.public_id}-answer": "Yes, in the evening."},
        both(
            _case_after("asked", Case.State.UNDER_REVIEW, lambda w: w.physician),
            lambda w: [
                ("answer", _fresh(w.question).answer, "Yes, in the evening."),
                ("question", _fresh(w.question).question, "Does it swell?"),
                ("asked by", _fresh(w.question).asked_by_id, w.physician.pk),
            ],
        ),
        prefixes=("{question}",),
    ),
    Form(
        "intake:consultation_change",
        "patient",
        to("intake:consultation_change", lambda w: w.booked.public_id),
        lambda w: {"change-kind": "reschedule", "change-message": "Mornings suit me."},
        both(
            _consultation_state(Consultation.State.BOOKED),
            lambda w: [
                ("kind", _last(w.booked.change_requests.all()).kind, "reschedule"),
                ("open", _last(w.booked.change_requests.all()).resolved_at, None),
            ],
        ),
        prefixes=("change",),
    ),
    # --- Physicians -----------------------------------------------------------------
    Form(
        "review:claim",
        "physician",
        to("review:claim", lambda w: w.pool_case.public_id),
        lambda w: {},
        _case_after("pool_case", Case.State.UNDER_REVIEW, lambda w: w.physician),
    ),
    Form(
        "review:next",
        "physician",
        to("review:next"),
        lambda w: {},
        _case_after("pool_case", Case.State.UNDER_REVIEW, lambda w: w.physician),
    ),
    Form(
        "review:release",
        "physician",
        to("review:release", lambda w: w.mine_case.public_id),
        lambda w: {},
        _case_after("mine_case", Case.State.SUBMITTED, lambda w: None),
    ),
    Form(
        "review:reassign",
        "physician",
        to("review:reassign", lambda w: w.mine_case.public_id),
        lambda w: {
            "reassign-physician": w.other_physician.pk,
            "reassign-reason": "Spine is their field.",
        },
        _case_after("mine_case", Case.State.SUBMITTED, lambda w: w.other_physician),
        prefixes=("reassign",),
    ),
    Form(
        "review:ask",
        "physician",
        to("review:ask", lambda w: w.mine_case.public_id),
        lambda w: {"ask-question": "Which knee hurts more on stairs?"},
        both(
            _case_after("mine_case", Case.State.INFO_REQUESTED, lambda w: w.physician),
            lambda w: [
                (
                    "asked by",
                    _last(w.mine_case.information_requests.all()).asked_by_id,
                    w.physician.pk,
                )
            ],
        ),
        prefixes=("ask",),
    ),
    Form(
        "review:imaging",
        "physician",
        to("review:imaging", lambda w: w.mine_case.public_id),
        lambda w: {
            "imaging-modality": "mri",
            "imaging-region": _region("knee"),
            "imaging-message_to_patient": "",
            "imaging-internal_note": "",
        },
        _case_after("mine_case", Case.State.IMAGING_REQUESTED, lambda w: w.physician),
        prefixes=("imaging",),
    ),
    Form(
        "review:candidate",
        "physician",
        to("review:candidate", lambda w: w.mine_case.public_id),
        lambda w: {
            "candidate-options": [_prp()],
            "candidate-consultation_type": "new",
            "candidate-consultation_mode": "in_person",
            "candidate-urgency": "routine",
            "candidate-message_to_patient": "",
            "candidate-internal_note": "",
        },
        both(
            _case_after("mine_case", Case.State.CONSULT_REQUESTED, lambda w: w.physician),
            lambda w: [
                ("decided by", _last(w.mine_case.decisions.all()).physician_id, w.physician.pk),
                (
                    "outcome",
                    _last(w.mine_case.decisions.all()).outcome,
                    ReviewDecision.Outcome.CANDIDATE,
                ),
            ],
        ),
        prefixes=("candidate",),
    ),
    Form(
        "review:not_candidate",
        "physician",
        to("review:not_candidate", lambda w: w.mine_case.public_id),
        lambda w: {
            "decline-reason": "Needs a surgeon.",
            "decline-message_to_patient": "Please see your surgeon.",
            "decline-internal_note": "",
        },
        _case_after("mine_case", Case.State.NOT_CANDIDATE, lambda w: w.physician),
        prefixes=("decline",),
    ),
    # --- The front desk -------------------------------------------------------------
    Form(
        "frontdesk:book",
        "desk",
        to("frontdesk:book", lambda w: w.to_book.public_id),
        lambda w: {"starts_at": w.free_at.isoformat()},
        lambda w: [
            ("booked", _fresh(w.to_book).state, Case.State.BOOKED),
            (
                "the case's patient and physician",
                list(w.to_book.consultations.values_list("patient", "physician", "booked_by")),
                [(w.patient.pk, w.physician.pk, w.desk.pk)],
            ),
            ("at", w.to_book.consultations.get().starts_at, w.free_at),
        ],
        get=200,
    ),
    Form(
        "frontdesk:reschedule",
        "desk",
        to("frontdesk:reschedule", lambda w: w.booked.public_id),
        lambda w: {"starts_at": w.free_at.isoformat()},
        both(
            _consultation_state(Consultation.State.BOOKED),
            lambda w: [("moved", _fresh(w.booked).starts_at, w.free_at)],
        ),
        get=200,
    ),
    Form(
        "frontdesk:check_in",
        "desk",
        to("frontdesk:check_in", lambda w: w.arriving.public_id),
        lambda w: {},
        _consultation_state(Consultation.State.CHECKED_IN, lambda w: w.arriving),
    ),
    Form(
        "frontdesk:complete",
        "desk",
        to("frontdesk:complete", lambda w: w.checked_in.public_id),
        lambda w: {},
        lambda w: [
            ("state", _fresh(w.checked_in).state, Consultation.State.COMPLETED),
            ("patient", _fresh(w.checked_in).patient_id, w.victim.pk),
        ],
    ),
    Form(
        "frontdesk:no_show",
        "desk",
        to("frontdesk:no_show", lambda w: w.booked.public_id),
        lambda w: {},
        _consultation_state(Consultation.State.NO_SHOW),
    ),
    Form(
        "frontdesk:cancel",
        "desk",
        to("frontdesk:cancel", lambda w: w.booked.public_id),
        lambda w: {"cancel-reason": "The patient phoned."},
        both(
            _consultation_state(Consultation.State.CANCELLED),
            lambda w: [("reason", _fresh(w.booked).cancel_reason, "The patient phoned.")],
        ),
        prefixes=("cancel",),
    ),
    Form(
        "frontdesk:request_handled",
        "desk",
        to("frontdesk:request_handled", lambda w: w.change.public_id),
        lambda w: {},
        lambda w: [
            ("handled by", _fresh(w.change).resolved_by_id, w.desk.pk),
            ("resolution", _fresh(w.change).resolution, "Marked handled by the front desk."),
            ("kind", _fresh(w.change).kind, "reschedule"),
        ],
    ),
    Form(
        "frontdesk:incomplete_remind",
        "desk",
        to("frontdesk:incomplete_remind", lambda w: w.draft.public_id),
        lambda w: {},
        lambda w: [
            ("reminders", _fresh(w.draft).reminder_count, 1),
            (
                "to the patient",
                list(_new_mail(w).values_list("to", flat=True)),
                [w.patient.email],
            ),
        ],
    ),
    # --- Accounts --------------------------------------------------------------------
    Form(
        "login",
        "anon",
        to("login"),
        lambda w: {"username": w.patient.email, "password": PASSWORD},
        lambda w: [
            ("signed in", _fresh(w.patient).last_login is not None, True),
            ("staff", (_fresh(w.patient).is_staff, _fresh(w.patient).is_superuser), (0, 0)),
        ],
        get=200,
    ),
    Form(
        "logout",
        "patient",
        to("logout"),
        lambda w: {},
        lambda w: [("staff", _fresh(w.patient).is_staff, False)],
        changes=False,
    ),
    Form(
        # The audit search: posted so that the names typed stay out of URLs; what it
        # keeps is the search, in the session. A search that does not validate is
        # answered 200 with the form, so the 302 shows it was accepted.
        "audit_log",
        "admin",
        to("audit_log"),
        lambda w: {"patient": w.patient.full_name, "action": "view", "since": "2020-01-01"},
        lambda w: [("patient not staff", _fresh(w.patient).is_staff, False)],
        get=200,
        changes=False,
    ),
    Form(
        "session",  # "Stay signed in": restarts the idle clock kept in the session
        "patient",
        to("session"),
        lambda w: {},
        lambda w: [("staff", _fresh(w.patient).is_staff, False)],
        status=200,
        get=200,
        changes=False,
    ),
    Form(
        "language_set",  # the language switch: the account's language changes, nothing else
        "patient",
        to("language_set"),
        lambda w: {"language": "es", "next": "/intake/"},
        lambda w: [
            ("language", _fresh(w.patient).language, "es"),
            ("staff", _fresh(w.patient).is_staff, False),
        ],
    ),
    Form(
        "two_factor_setup",
        "new staff, password only",
        to("two_factor_setup"),
        lambda w: {"code": current_code(TOTPDevice.objects.get(user=w.new_staff))},
        lambda w: [
            (
                "the new authenticator, confirmed",
                list(TOTPDevice.objects.filter(confirmed=True).values_list("user", flat=True)),
                [w.physician.pk, w.new_staff.pk],
            ),
            ("recovery codes", two_factor.recovery_codes_left(w.new_staff), 10),
        ],
        get=200,
    ),
    Form(
        "two_factor_verify",
        "physician, password only",
        to("two_factor_verify"),
        lambda w: {"code": current_code(second_factor_device(w.physician))},
        lambda w: [
            ("used", second_factor_device(w.physician).last_used_at is not None, True),
            ("devices", TOTPDevice.objects.count(), 2),
        ],
        get=200,
    ),
    Form(
        "two_factor_recovery",
        "physician",
        to("two_factor_recovery"),
        lambda w: {},
        lambda w: [
            ("new codes", two_factor.recovery_codes_left(w.physician), 10),
            (
                "for the physician only",
                set(StaticToken.objects.values_list("device__user", flat=True)),
                {w.physician.pk},
            ),
        ],
        get=200,
    ),
    Form(
        "password_change",
        "patient",
        to("password_change"),
        lambda w: {
            "old_password": PASSWORD,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        lambda w: [
            ("new password", _fresh(w.patient).check_password(NEW_PASSWORD), True),
            ("address", _fresh(w.patient).email, w.patient.email),
            ("staff", _fresh(w.patient).is_staff, False),
        ],
        get=200,
    ),
    Form(
        "password_reset",
        "anon",
        to("password_reset"),
        lambda w: {"email": w.patient.email},
        lambda w: [
            ("one e-mail, to the account's address", _reset_mails(w), [(w.patient.email, True)]),
        ],
        get=200,
    ),
    Form(
        "password_reset_confirm",
        "anon",
        _reset_link,
        lambda w: {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        lambda w: [
            ("new password", _fresh(w.patient).check_password(NEW_PASSWORD), True),
            ("staff", _fresh(w.patient).is_staff, False),
        ],
        get=200,
    ),
    Form(
        "verify_email",
        "anon",
        _verify_link,
        lambda w: {},
        lambda w: [
            ("confirmed", _fresh(w.newcomer).email_verified_at is not None, True),
            ("address", _fresh(w.newcomer).email, w.newcomer.email),
        ],
        get=200,
    ),
    Form(
        "verify_email_resend",
        "newcomer",
        to("verify_email_resend"),
        lambda w: {},
        lambda w: [
            (
                "a link to the account's own address",
                list(_new_mail(w).values_list("to", flat=True)),
                [w.newcomer.email],
            )
        ],
    ),
    # --- Care after the consultation -------------------------------------------------------
    Form(
        "care:plan",
        "physician",
        to("care:plan", lambda w: w.planned.public_id),
        _plan_post,
        lambda w: [
            ("sessions", _fresh(w.draft_plan).sessions, 2),
            ("side", _fresh(w.draft_plan).side, "right"),
            ("still a draft", _fresh(w.draft_plan).shared_at, None),
            ("written by", _fresh(w.draft_plan).physician_id, w.physician.pk),
            ("versions", w.planned.treatment_plans.count(), 2),
        ],
        get=200,
    ),
    Form(
        "care:plan_item",
        "physician",
        to("care:plan_item", lambda w: w.draft_item.public_id),
        _item_post,
        lambda w: [
            ("charge", str(_fresh(w.draft_item).charge), "950.00"),
            ("reason", _fresh(w.draft_item).adjustment_reason, "Agreed"),
            ("same plan", _fresh(w.draft_item).plan_id, w.draft_plan.pk),
        ],
        prefixes=("item-{item}",),
    ),
    Form(
        "care:plan_share",
        "physician",
        to("care:plan_share", lambda w: w.draft_plan.public_id),
        lambda w: {},
        lambda w: [
            ("shared", _fresh(w.draft_plan).shared_at is not None, True),
            ("estimates", w.planned.estimates.count(), 2),
            (
                "for the patient",
                _last(w.planned.estimates.all()).patient_name,
                w.estimate.patient_name,
            ),
        ],
    ),
    Form(
        "care:plan_revise",
        "physician",
        to("care:plan_revise", lambda w: _last(w.shared_only.treatment_plans.all()).public_id),
        lambda w: {"reason": "A second knee"},
        lambda w: [
            ("new version", _last(w.shared_only.treatment_plans.all()).version, 2),
            ("reason", _last(w.shared_only.treatment_plans.all()).change_reason, "A second knee"),
            ("a draft", _last(w.shared_only.treatment_plans.all()).shared_at, None),
        ],
    ),
    Form(
        "care:estimate_request",
        "patient",
        to("care:estimate_request", lambda w: w.shared_only.public_id),
        lambda w: {},
        lambda w: [
            (
                "asked",
                list(w.shared_only.estimates_due.values_list("reason", flat=True)),
                ["requested"],
            ),
        ],
    ),
    Form(
        "care:estimate_acknowledge",
        "patient",
        to("care:estimate_acknowledge", lambda w: w.estimate.public_id),
        lambda w: {},
        lambda w: [
            (
                "received by",
                EstimateAcknowledgement.objects.get(estimate=w.estimate).patient_id,
                w.patient.pk,
            ),
        ],
    ),
    Form(
        "care:estimate_issue",
        "desk",
        to("care:estimate_issue", lambda w: w.shared_only.public_id),
        lambda w: {"separately_scheduled": "Knee MRI"},
        lambda w: [
            ("issued by", _last(w.shared_only.estimates.all()).issued_by_id, w.desk.pk),
            (
                "separately",
                _last(w.shared_only.estimates.all()).separately_scheduled,
                "Knee MRI",
            ),
            ("estimates", w.shared_only.estimates.count(), 2),
        ],
    ),
    Form(
        "care:procedure_book",
        "desk",
        to("care:procedure_book", lambda w: w.shared_only.public_id),
        lambda w: {"starts_at": w.procedure_at.isoformat()},
        lambda w: [
            (
                "type",
                _last(w.shared_only.consultations.all()).consultation_type.slug,
                "injection-procedure",
            ),
            ("patient", _last(w.shared_only.consultations.all()).patient_id, w.patient.pk),
            ("physician", _last(w.shared_only.consultations.all()).physician_id, w.physician.pk),
            ("at", _last(w.shared_only.consultations.all()).starts_at, w.procedure_at),
            (
                "estimate with its date",
                _last(w.shared_only.estimates.all()).service_date is not None,
                True,
            ),
        ],
        get=200,
    ),
    Form(
        "care:instructions_acknowledge",
        "patient",
        to("care:instructions_acknowledge", lambda w: w.procedure.public_id),
        lambda w: {},
        lambda w: [
            (
                "read by",
                [
                    r.patient_id
                    for r in InstructionAcknowledgement.objects.filter(procedure=w.procedure)
                ],
                [w.patient.pk],
            ),
        ],
    ),
    Form(
        "care:instructions_draft",
        "physician",
        to("care:instructions_draft", lambda w: w.pending.public_id),
        lambda w: {},
        lambda w: [("drafted again", w.pending.instructions.count(), 4)],
        changes=False,  # every template was already drafted: nothing new to copy
    ),
    Form(
        "care:instruction_edit",
        "physician",
        to("care:instruction_edit", lambda w: _pending_nsaid(w).public_id),
        lambda w: {
            f"instruction-{_pending_nsaid(w).public_id}-text": "no ibuprofen.",
            f"instruction-{_pending_nsaid(w).public_id}-days_from_procedure": "-3",
        },
        lambda w: [
            ("text", _fresh(_pending_nsaid(w)).text, "no ibuprofen."),
            ("days", _fresh(_pending_nsaid(w)).days_from_procedure, -3),
            ("not approved", _fresh(_pending_nsaid(w)).approved_at, None),
        ],
        prefixes=("instruction-{instruction}",),
    ),
    Form(
        "care:instruction_drop",
        "physician",
        to("care:instruction_drop", lambda w: _pending_nsaid(w).public_id),
        lambda w: {},
        lambda w: [("left", w.pending.instructions.count(), 3)],
    ),
    Form(
        "care:instructions_approve",
        "physician",
        to("care:instructions_approve", lambda w: w.pending.public_id),
        lambda w: {},
        lambda w: [
            ("approved", w.pending.instructions.filter(approved_at__isnull=True).count(), 0),
            ("by", {i.approved_by_id for i in w.pending.instructions.all()}, {w.physician.pk}),
        ],
    ),
    Form(
        "care:procedure_record",
        "physician",
        to("care:procedure_record", lambda w: w.today_procedure.public_id),
        _record_post,
        _recorded,
    ),
    Form(
        "care:followup",
        "patient",
        to("care:followup", lambda w: w.followup.public_id),
        lambda w: form_data(followup_answers(pain=4)),
        lambda w: [
            ("state", _fresh(w.followup).state, "answered"),
            ("pain", FollowUpResponse.objects.get(followup=w.followup).pain, 4),
        ],
        get=200,
    ),
    Form(
        "care:followup_preferences",
        "patient",
        to("care:followup_preferences"),
        lambda w: {"texts_agreed": "on"},
        lambda w: [
            (
                "texts",
                FollowUpPreference.objects.filter(patient=w.patient, texts_agreed=True).count(),
                1,
            ),
            ("still asked", _fresh(w.followup).state, "open"),
        ],
    ),
    Form(
        "care:followup_review",
        "physician",
        to("care:followup_review", lambda w: w.attention.public_id),
        lambda w: {},
        lambda w: [("reviewed by", _fresh(w.attention).attention_reviewed_by_id, w.physician.pk)],
    ),
    Form(
        "care:followup_call",
        "desk",
        to("care:followup_call", lambda w: w.followup.public_id),
        lambda w: {"result": "no_answer", "note": "Rang twice"},
        lambda w: [
            (
                "calls",
                list(w.followup.calls.values_list("result", "by_id")),
                [("no_answer", w.desk.pk)],
            ),
        ],
    ),
]


def _new_mail(w: World) -> models.QuerySet[OutboundEmail]:
    return OutboundEmail.objects.filter(pk__gt=w.emails_sent).order_by("pk")


def _reset_mails(w: World) -> list[tuple[str, bool]]:
    return [(mail.to, "http://testserver/accounts/reset/" in mail.body) for mail in _new_mail(w)]


# URLs that accept a POST but have no row above, with the persona the CSRF test
# below posts as, and why.
NO_ROW = {
    # Django's admin (one name stands for all its pages in the URL list): what its
    # change forms accept is each ModelAdmin's ``fields``/``readonly_fields``, for
    # people with the model's permissions; its CSRF protection is tested below.
    "admin:index": "admin",
}


# --- What an attacker adds -------------------------------------------------------------

# Request parameters the views read for navigation, not model fields.
CONTROL_PARAMETERS = {"action", "review", "next"}
A_LONG_TIME_AGO = "2001-02-03T04:05:06+00:00"


WATCHED_APPS = ("auth", "clinic", "intake", "treatments", "care", "otp_totp", "otp_static")


def _watched_models() -> list[type[models.Model]]:
    """The tables a form could change. Not the read audit (rows written by every page,
    with a random request id), nor django-pghistory's copies of the rows watched here."""
    watched = []
    for label in WATCHED_APPS:
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            if model._meta.label == "clinic.AuditEvent" or issubclass(
                model, pghistory.models.Event
            ):
                continue
            watched.append(model)
    return watched


def _junk(field: models.Field[Any, Any], w: World) -> Any:
    """A value for ``field`` that would matter if it were applied."""
    if field.many_to_many or field.many_to_one or field.one_to_one:
        related = field.related_model
        assert isinstance(related, type)
        if related is User:
            staffish = any(word in field.name for word in ("physician", "assigned", "by"))
            pk: Any = (w.other_physician if staffish else w.victim).pk
        elif related is Case:
            pk = w.checked_in.case_id
        elif related is Intake:
            pk = w.checked_in.case.intake_id
        elif related is Consultation:
            pk = w.checked_in.pk
        else:
            pk = related._default_manager.order_by("-pk").values_list("pk", flat=True).first()
        return [pk] if field.many_to_many else pk
    if field.choices:
        return str(list(field.flatchoices)[-1][0])
    if isinstance(field, models.BooleanField):
        return "false" if field.default is True else "on"
    if isinstance(field, models.DateTimeField):
        return A_LONG_TIME_AGO
    if isinstance(field, models.DateField):
        return "2001-02-03"
    if isinstance(field, models.DecimalField):
        return "12.5"
    if isinstance(field, models.IntegerField | models.AutoField):
        return "7"
    if isinstance(field, models.UUIDField):
        return str(uuid.uuid4())
    if isinstance(field, models.JSONField):
        return '{"1": ["mallory"]}'
    if isinstance(field, models.EmailField):
        return "mallory@evil.example"
    if isinstance(field, models.GenericIPAddressField):
        return "198.51.100.66"
    return "Mallory was here"


def attacker_fields(w: World) -> dict[str, Any]:
    """Every field of every watched model (by name and, for a foreign key, its
    ``_id`` name), then the names an attacker tries first."""
    fields: dict[str, Any] = {}
    for model in _watched_models():
        for field in [*model._meta.concrete_fields, *model._meta.many_to_many]:
            value = _junk(field, w)
            if isinstance(field, models.FileField) or value in (None, [None]):
                continue
            fields[field.name] = value
            fields[field.attname] = value
    fields |= {
        "patient": w.victim.pk,
        "patient_id": w.victim.pk,
        "user": w.victim.pk,
        "user_id": w.victim.pk,
        "owner": w.victim.pk,
        "assigned_to": w.other_physician.pk,
        "assigned_to_id": w.other_physician.pk,
        "physician": w.other_physician.pk,
        "physician_id": w.other_physician.pk,
        "state": Case.State.NOT_CANDIDATE,
        "status": Intake.Status.SUBMITTED,
        "priority": str(Priority.URGENT),
        "is_staff": "on",
        "is_superuser": "on",
        "is_active": "false",
        "groups": list(Group.objects.values_list("pk", flat=True)),
        "role": Role.CLINIC_ADMIN,
        "public_id": str(uuid.uuid4()),
        "id": str(w.checked_in.case_id),
        "pk": str(w.checked_in.case_id),
        "created_at": A_LONG_TIME_AGO,
        "submitted_at": A_LONG_TIME_AGO,
        "case": w.checked_in.case_id,
        "case_id": w.checked_in.case_id,
        "intake": w.checked_in.case.intake_id,
        "intake_id": w.checked_in.case.intake_id,
    }
    return {name: value for name, value in fields.items() if name not in CONTROL_PARAMETERS}


def hostile(form: Form, w: World) -> dict[str, Any]:
    """The form's valid data with the attacker's fields around it (the valid data
    wins where names meet: a field the form has is not an extra field)."""
    extra = attacker_fields(w)
    added = dict(extra)
    for prefix in form.prefixes:
        prefix = prefix.format(
            question=w.question.public_id,
            item=w.draft_item.public_id,
            instruction=_pending_nsaid(w).public_id,
        )
        added |= {f"{prefix}-{name}": value for name, value in extra.items()}
    return added | form.data(w)


# --- Comparing the database --------------------------------------------------------------

Existing = dict[str, set[Any]]
# Not compared: e-mail bodies and invitations (one-time links and new ids; the rows
# check what matters in them), and the 30-second step of the last authenticator code
# used (from the real clock, which the test does not stop).
UNCOMPARED = {
    "clinic.OutboundEmail.body",
    "clinic.OutboundEmail.calendar",
    "otp_totp.TOTPDevice.last_t",
    "otp_totp.TOTPDevice.drift",
}
# Drawn at random when a row is created (compared on rows that existed before).
RANDOM_ON_CREATE = {"intake.Case.reference", "otp_static.StaticToken.token"}


def _which_password(encoded: str) -> str:
    """A password hash has a random salt: compared by the password it checks."""
    for name, password in (("the first", PASSWORD), ("the new", NEW_PASSWORD)):
        if check_password(password, encoded):
            return f"{name} password"
    return "another password"


# Compared through a function of the value, not the value itself.
COMPARED_AS: dict[str, Callable[[Any], Any]] = {"clinic.User.password": _which_password}


def _existing() -> Existing:
    return {
        model._meta.label: set(model._default_manager.values_list("pk", flat=True))
        for model in _watched_models()
    }


def _random_on_create(label: str, field: models.Field[Any, Any]) -> bool:
    return (
        field.primary_key
        or isinstance(field, models.FileField)
        or (field.has_default() and callable(field.default))
        or f"{label}.{field.name}" in RANDOM_ON_CREATE
    )


def database_state(existing: Existing) -> dict[str, Any]:
    """Every watched row: those that existed before by primary key, new ones in the
    order they were made, without what is drawn at random when a row is created (and
    with those random values blanked wherever they appear, e.g. a case reference in
    an e-mail's subject)."""
    raw: dict[str, tuple[list[models.Field[Any, Any]], list[tuple[Any, ...]]]] = {}
    volatile: set[str] = set()
    for model in _watched_models():
        label = model._meta.label
        fields = [f for f in model._meta.concrete_fields if f"{label}.{f.name}" not in UNCOMPARED]
        rows = list(
            model._default_manager.order_by("pk").values_list(
                "pk", *(field.attname for field in fields)
            )
        )
        raw[label] = (fields, rows)
        for row in rows:
            if row[0] not in existing[label]:
                volatile |= {
                    str(value)
                    for field, value in zip(fields, row[1:], strict=True)
                    if _random_on_create(label, field) and value and not isinstance(value, int)
                }

    def scrubbed(value: Any) -> Any:
        if isinstance(value, str):
            for token in volatile:
                value = value.replace(token, "<new>")
        return value

    state: dict[str, Any] = {}
    for label, (fields, rows) in raw.items():
        before: dict[Any, dict[str, Any]] = {}
        made: list[dict[str, Any]] = []
        for pk, *values in rows:
            new = pk not in existing[label]
            record = {}
            for field, value in zip(fields, values, strict=True):
                if new and _random_on_create(label, field):
                    continue
                related = field.related_model if field.is_relation else None
                if (
                    isinstance(related, type)
                    and value is not None
                    and value not in existing.get(related._meta.label, {value})
                ):
                    value = "<new>"
                compared_as = COMPARED_AS.get(f"{label}.{field.name}")
                record[field.name] = compared_as(value) if compared_as else scrubbed(value)
            if new:
                made.append(record)
            else:
                before[pk] = record
        state[label] = {"rows": before, "new": made}
    return state


def differences(expected: dict[str, Any], got: dict[str, Any]) -> list[str]:
    found = []
    for label, tables in expected.items():
        mine, theirs = tables, got[label]
        for pk in sorted(mine["rows"].keys() | theirs["rows"].keys(), key=str):
            a, b = mine["rows"].get(pk), theirs["rows"].get(pk)
            if a is None or b is None:
                found.append(f"{label} #{pk}: {'deleted' if b is None else 'not deleted'}")
            elif a != b:
                changed = {name: (a[name], b[name]) for name in a if a[name] != b[name]}
                found.append(f"{label} #{pk}: {changed}")
        if mine["new"] != theirs["new"]:
            found.append(f"{label} new rows: {mine['new']} != {theirs['new']}")
    return found


@contextmanager
def clock_stopped(at: datetime) -> Iterator[None]:
    with mock.patch("django.utils.timezone.now", return_value=at):
        yield


def post_and_roll_back(
    w: World, form: Form, client: Client, data: dict[str, Any], existing: Existing, at: datetime
) -> tuple[Any, dict[str, Any], list[Expectation]]:
    """The POST, the database after it and the form's expectations, all undone."""
    with transaction.atomic():
        address = form.url(w, client)
        with clock_stopped(at):
            response = client.post(address, data)
        state = database_state(existing)
        checks = form.expect(w) if response.status_code == form.status else []
        transaction.set_rollback(True)
    return response, state, checks


def _unmet(checks: list[Expectation]) -> list[Expectation]:
    return [(what, got, wanted) for what, got, wanted in checks if got != wanted]


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.id)
def test_extra_fields_change_nothing_the_form_does_not(world: World, form: Form) -> None:
    # Signed in before the first snapshot: signing in writes last_login.
    plain, attacked = _signed_in(world, form.persona), _signed_in(world, form.persona)
    existing = _existing()
    untouched = database_state(existing)
    at = timezone.now()

    response, legitimate, checks = post_and_roll_back(
        world, form, plain, form.data(world), existing, at
    )
    assert response.status_code == form.status, response.content[:2000]
    assert _unmet(checks) == []
    assert differences(untouched, legitimate) != [] or not form.changes, (
        "the valid POST changed nothing, so this row proves nothing"
    )

    response, after_attack, checks = post_and_roll_back(
        world, form, attacked, hostile(form, world), existing, at
    )
    assert response.status_code == form.status, response.content[:2000]
    assert _unmet(checks) == []
    assert differences(legitimate, after_attack) == []


def _accepts_post(name: str) -> bool:
    # Someone gets past the method check; a URL the access matrix does not know yet
    # counts as accepting a POST.
    return name not in EXPECTED or bool(set(EXPECTED[name]["POST"].split()) - {"405", "login"})


def test_every_form_has_a_row() -> None:
    rows = {form.name for form in FORMS}
    posting = {name for name in url_names() if _accepts_post(name)}
    missing = sorted(posting - rows - NO_ROW.keys())
    assert not missing, f"URLs that accept a POST with no row in FORMS: {missing}"
    stale = sorted((rows | NO_ROW.keys()) - posting)
    assert not stale, f"rows for URLs that no longer exist or accept no POST: {stale}"


def test_the_extra_fields_include_what_attackers_try_first(world: World) -> None:
    names = [
        "patient",
        "patient_id",
        "user",
        "user_id",
        "owner",
        "state",
        "status",
        "assigned_to",
        "assigned_to_id",
        "physician",
        "physician_id",
        "priority",
        "is_staff",
        "is_superuser",
        "is_active",
        "groups",
        "user_permissions",
        "public_id",
        "id",
        "pk",
        "created_at",
        "submitted_at",
        "case",
        "case_id",
        "intake",
        "intake_id",
        "booked_by",
        "resolved_by",
        "asked_by",
        "email_verified_at",
        "reminder_count",
        "completed_steps",
    ]
    assert [name for name in names if name not in attacker_fields(world)] == []
    candidate = next(form for form in FORMS if form.name == "review:candidate")
    assert "candidate-assigned_to" in hostile(candidate, world)


# --- CSRF ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    name: str
    persona: str
    url: Callable[[World, Client], str]
    data: Callable[[World], dict[str, Any]]
    id: str


POSTS = [Post(form.name, form.persona, form.url, form.data, form.id) for form in FORMS] + [
    Post(name, persona, to(name), lambda w: {}, name) for name, persona in NO_ROW.items()
]


@pytest.mark.parametrize("post", POSTS, ids=lambda post: post.id)
def test_a_post_without_a_csrf_token_is_refused(
    world: World, post: Post, caplog: pytest.LogCaptureFixture
) -> None:
    client = _signed_in(world, post.persona, enforce_csrf_checks=True)
    address = post.url(world, client)
    existing = _existing()
    before = database_state(existing)
    with caplog.at_level(logging.WARNING, logger="django.security.csrf"):
        response = client.post(address, post.data(world))
    assert response.status_code == 403
    assert any(record.name == "django.security.csrf" for record in caplog.records)
    assert differences(before, database_state(existing)) == []


def test_a_post_with_the_pages_csrf_token_goes_through(world: World) -> None:
    client = _signed_in(world, "patient", enforce_csrf_checks=True)
    page = client.get(reverse("intake:detail", args=[world.asked.intake.public_id]))
    assert page.status_code == 200
    response = client.post(
        reverse(
            "intake:information_answer",
            args=[world.asked.intake.public_id, world.question.public_id],
        ),
        {
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
            f"{world.question.public_id}-answer": "Yes, in the evening.",
        },
    )
    assert response.status_code == 302
    assert _fresh(world.question).answer == "Yes, in the evening."


def test_the_front_desk_posts_with_the_pages_csrf_token(world: World) -> None:
    client = _signed_in(world, "desk", enforce_csrf_checks=True)
    page = client.get(reverse("frontdesk:consultation", args=[world.booked.public_id]))
    assert page.status_code == 200
    response = client.post(
        reverse("frontdesk:cancel", args=[world.booked.public_id]),
        {
            "csrfmiddlewaretoken": client.cookies["csrftoken"].value,
            "cancel-reason": "The patient phoned.",
        },
    )
    assert response.status_code == 302
    assert _fresh(world.booked).state == Consultation.State.CANCELLED


@pytest.mark.parametrize("form", FORMS, ids=lambda form: form.id)
def test_a_get_changes_nothing(world: World, form: Form) -> None:
    client = _signed_in(world, form.persona)
    address = form.url(world, client)
    existing = _existing()
    before = database_state(existing)
    response = client.get(address)
    assert response.status_code == form.get
    assert differences(before, database_state(existing)) == []
