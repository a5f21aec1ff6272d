"""Stored XSS: whatever anyone types into the clinic comes back as text, never as markup.

``TYPED`` is every free-text field a person can fill in (a patient, a physician, the
front desk, a clinic admin in the admin site, a visitor at the login form), each with
a payload of its own and the pages that show it; ``PAGES`` says who opens each page.
The ``world`` types every payload where the person would: through the real pages
(sign-up, the intake's steps, the physician's actions, the front desk's booking and
cancelling, the patient's answers and requests, a failed login) and, for what a clinic
admin types in the admin site (the catalog, physicians' profiles, hours and time off),
into the rows as the admin's forms would save them. Then every page is opened by the
person who reads it and must

- hold no payload as it was typed, and nothing that would run (a script element, an
  event handler, a ``javascript:`` link, however the payload got there); and
- show each field the table says it shows, escaped: that proves the field really was
  on the page, so the first check was not passed by a page that lost it.

Every page shown on the way is held to the first rule too (flash messages quote
names). E-mails are plain text, which no mail client runs as markup: they must quote
what was typed as it was typed, and an HTML part, were one ever added, is held to the
page rule. The last tests keep a new model field, URL or admin page from escaping the
tables, as the access matrix does for permissions.
"""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from care.models import (
    BillableItem,
    BillingProvider,
    ClinicHoliday,
    GoodFaithEstimate,
    InstructionTemplate,
    TreatmentPlan,
)
from care.services.estimates import disclaimer_publish
from care.services.procedures import procedure_type
from clinic.models import OutboundEmail, PhysicianProfile, TimeOff, User
from clinic.roles import Role
from intake import services
from intake.models import (
    AnswerOption,
    Case,
    Consultation,
    ConsultationType,
    InformationRequest,
    Instrument,
    InstrumentItem,
    Intake,
)
from intake.routing import case_route
from intake.scheduling import free_slots, local_day_range
from tests.conftest import ClinicClient
from tests.factories import PASSWORD, PhysicianFactory, UserFactory, working_hours
from tests.intake.step_posts import (
    about_post,
    consent_post,
    function_post,
    goals_post,
    health_post,
    imaging_post,
    pain_post,
    tried_post,
)
from tests.test_access_matrix import url_names
from treatments.models import (
    BodyRegion,
    Condition,
    ConditionCode,
    Contraindication,
    RedFlag,
    TreatmentOption,
)

pytestmark = pytest.mark.django_db


# --- Payloads -----------------------------------------------------------------------------
# Each carries its field's own label, so a page showing it proves that field was rendered,
# and each runs ``alert(...)``, which nothing else in the project writes. Lower case: some
# fields are shown through ``|lower``.


def script(label: str) -> str:
    return f'<script>alert("{label}")</script>'


def image(label: str) -> str:
    """Breaks out of an attribute value, then runs on load."""
    return f'"><img src=x onerror=alert("{label}")>'


def link(label: str) -> str:
    return f"<a href=\"javascript:alert('{label}')\">{label}</a>"


# --- The pages, by who reads them ---------------------------------------------------------

DRAFT_STEPS = tuple(f"patient: draft, step {n}" for n in range(1, 9))
PATIENT_PAGES = ("patient: home", "patient: intake A", "patient: intake B", *DRAFT_STEPS)
CASE_PAGES = (
    "physician: case A",
    "physician: case A, printable",
    "physician: case B",
    "physician: case C",
    "physician: case E",
)
CASE_A = ("physician: case A", "physician: case A, printable")
FRONT_DESK_PAGES = (
    "front desk: home",
    "front desk: book C",
    "front desk: move consultation 2",
    "front desk: consultation 1",
    "front desk: consultation 2",
    "front desk: day",
    "front desk: incomplete intakes",
)
CONSULTATION_PAGES = (
    "front desk: move consultation 2",
    "front desk: consultation 1",
    "front desk: consultation 2",
)
# Where a submitted intake is shown whole: to the patient and to physicians (the admin
# shows no care, see tests/test_access_matrix.py).
SUBMITTED = ("patient: intake A", "patient: intake B", *CASE_PAGES)


def draft(*steps: int) -> tuple[str, ...]:
    return tuple(f"patient: draft, step {n}" for n in steps)


@dataclass(frozen=True)
class Typed:
    """A free-text field, the payload typed into it, and the pages that must show it."""

    payload: str
    shown_on: tuple[str, ...]


# Keyed "Model.field", with who types it where one field is typed in several places.
TYPED: dict[str, Typed] = {
    # The patient, at sign-up and in the intake's steps. Intakes A, B, C and E are
    # submitted; the draft has steps 1-6 saved (step 1 prefilled from the last intake)
    # and step 7 typed but not valid, which is kept as typed.
    "User.full_name (patient, at sign-up)": Typed(
        script("full name"),
        (
            *PATIENT_PAGES,
            *CASE_PAGES,  # the history: who submitted, answered, asked for a change
            "front desk: consultation 1",
            "front desk: consultation 2",
            "front desk: incomplete intakes",
            "admin: users",
            "admin: patient",
            "admin: e-mail",
            "admin: audit log",
        ),
    ),
    # A quoted local part may hold <, >, ( and ' (RFC 5322; Django's validator agrees).
    "User.email (patient, at sign-up)": Typed(
        "\"<script>alert('e-mail')</script>\"@clinic.example",
        (
            "front desk: consultation 1",
            "front desk: consultation 2",
            "front desk: incomplete intakes",
            "admin: users",
            "admin: patient",
            "admin: outbox",
            "admin: e-mail",
            "admin: audit log",
            "admin: access log",  # the name typed at the login form
            "physician: donor tissue recall",  # whom to write to
        ),
    ),
    "Intake.legal_name": Typed(
        script("legal name"),
        (
            "physician: plan A",
            "physician: plan F",
            "physician: donor tissue recall",  # whom to call
            "patient: estimate A",  # copied into the estimate
            "front desk: estimates",
            "front desk: estimate A",
            "front desk: book procedure A",
            *SUBMITTED,
            *draft(1, 8),
            "physician: queue",
            "physician: calendar",
            *FRONT_DESK_PAGES,
        ),
    ),
    # The signature must be the legal name, compared without regard to case.
    "Intake.signature_name": Typed(
        script("legal name").upper(), ("patient: intake A", "patient: intake B")
    ),
    "Intake.address_line1": Typed(image("address"), (*SUBMITTED, *draft(1, 8))),
    "Intake.address_line2": Typed(link("address line 2"), (*SUBMITTED, *draft(1, 8))),
    "Intake.city": Typed(script("city"), (*SUBMITTED, *draft(1, 8))),
    "Intake.region": Typed(image("region"), (*SUBMITTED, *draft(1, 8))),
    "Intake.postal_code": Typed(  # 20 characters at most
        "<svg onload=alert()>", (*SUBMITTED, *draft(1, 8))
    ),
    "Intake.emergency_contact_name": Typed(script("emergency contact"), (*SUBMITTED, *draft(1, 8))),
    "Intake.emergency_contact_relationship": Typed(
        image("relationship"), (*SUBMITTED, *draft(1, 8))
    ),
    "PriorTreatment.details": Typed(link("surgery"), (*SUBMITTED, *draft(4, 8))),
    "Intake.current_medicines": Typed(script("medicines"), (*SUBMITTED, *draft(5, 8))),
    "Intake.allergies": Typed(image("allergies"), (*SUBMITTED, *draft(5, 8))),
    "Intake.other_conditions": Typed(link("other conditions"), (*SUBMITTED, *draft(5, 8))),
    "ImagingStudy.facility": Typed(image("facility"), (*SUBMITTED, *draft(6, 8))),
    # An upload's name: a browser sends no path, and a quote would end the header.
    "ImagingFile.original_name": Typed(
        "<img src=x onerror=alert('file name')>.png", (*SUBMITTED, *draft(6, 8))
    ),
    "Intake.goals": Typed(script("goals"), (*SUBMITTED, *draft(7))),
    # The payment choice is prefilled from the last intake, so the draft's summary
    # (step 8) shows the insurance it was copied with.
    "Intake.insurance_carrier": Typed(link("insurance"), (*SUBMITTED, *draft(7, 8))),
    "Intake.insurance_member_id": Typed(image("member id"), (*SUBMITTED, *draft(7, 8))),
    # Intake B is a minor's, signed with a parent.
    "Intake.guardian_name": Typed(script("guardian"), ("patient: intake B",)),
    "Intake.guardian_relationship": Typed(image("guardian relationship"), ("patient: intake B",)),
    # Kept with the signature; no page shows it back (the admin shows no care).
    "Intake.guardian_signature_name": Typed(script("guardian").upper(), ()),
    # The patient, after submitting.
    "InformationRequest.answer": Typed(
        script("answer"), ("patient: intake A", "physician: case A", "physician: case A, printable")
    ),
    "ConsultationChangeRequest.message": Typed(
        link("change request"), ("front desk: home", "front desk: consultation 2")
    ),
    # The physician.
    "InformationRequest.question": Typed(script("question"), ("patient: intake A", *CASE_A)),
    "ReviewDecision.message_to_patient (needs imaging)": Typed(
        image("imaging message"),
        ("patient: intake A", *CASE_A),  # in the imaging request
    ),
    "ReviewDecision.internal_note (needs imaging)": Typed(script("imaging note"), CASE_A),
    "ReviewDecision.override_reason": Typed(link("override"), CASE_A),
    "ReviewDecision.message_to_patient (candidate)": Typed(
        script("candidate message"), ("patient: intake A", *CASE_A, "physician: case C")
    ),
    "ReviewDecision.internal_note (candidate)": Typed(
        image("candidate note"), (*CASE_A, "physician: case C")
    ),
    # Case B's; the other cases list it among the patient's earlier cases.
    "ReviewDecision.reason (not a candidate)": Typed(script("decline reason"), CASE_PAGES),
    "ReviewDecision.message_to_patient (not a candidate)": Typed(
        image("decline message"), ("patient: intake B", "physician: case B")
    ),
    "ReviewDecision.internal_note (not a candidate)": Typed(
        link("decline note"), ("physician: case B",)
    ),
    "CaseEvent.note (reason for reassigning)": Typed(
        script("reassign reason"), ("physician: case C",)
    ),
    # The front desk.
    "Consultation.cancel_reason": Typed(
        image("cancel reason"),
        ("front desk: consultation 1", "front desk: consultation 2", *CASE_A),
    ),
    # A visitor at the login form, whose failed attempts django-axes keeps for the admin,
    # and a browser's own name at a login.
    "AccessAttempt.username (a failed login)": Typed(
        script("login name"), ("admin: access attempts", "admin: access failures")
    ),
    "AccessAttempt.user_agent (a failed login)": Typed(
        image("user agent"), ("admin: access attempts", "admin: access failures")
    ),
    "AccessLog.user_agent (a login)": Typed(image("login browser"), ("admin: access log",)),
    # A clinic admin, in the admin site: staff accounts, physicians, their hours.
    "User.full_name (front desk, in the admin)": Typed(
        script("desk name"),
        (
            *FRONT_DESK_PAGES,
            *CASE_A,  # the history: who booked and cancelled
            "admin: users",
            "admin: front desk",
            "admin: audit log",
        ),
    ),
    "PhysicianProfile.display_name": Typed(
        script("display name"),
        (
            "patient: home",
            "patient: care F",  # who did the procedure
            "patient: intake A",
            "patient: intake B",
            *CASE_PAGES,
            "front desk: home",
            *CONSULTATION_PAGES,
            "front desk: day",
            "admin: physicians",
            "admin: physician",
            "admin: e-mail",
        ),
    ),
    "PhysicianProfile.licence_number": Typed(script("licence"), ("admin: physician",)),
    "WorkingHours.location": Typed(
        image("location"),
        (
            "patient: home",
            "physician: calendar",
            "front desk: book C",
            *CONSULTATION_PAGES,
            "front desk: day",
            "admin: physician",
            "admin: e-mail",
        ),
    ),
    "TimeOff.reason": Typed(link("time off"), ("front desk: day", "admin: physician")),
    # A clinic admin, in the admin site: the catalog.
    "BodyRegion.name": Typed(
        script("body region"),
        (
            *SUBMITTED,
            *draft(2, 6, 8),
            "physician: queue",
            "admin: body regions",
            "admin: body region",
            "admin: conditions",
            "admin: condition",
            "admin: physicians",  # filtered by the regions they take
            "admin: physician",
        ),
    ),
    "Condition.name": Typed(
        image("condition"),
        (
            *SUBMITTED,
            *draft(2, 8),
            "physician: queue",
            "admin: conditions",
            "admin: condition",
        ),
    ),
    "Condition.icd10_code": Typed("<b>1</b>", ("admin: conditions", "admin: condition")),
    "ConditionCode.code": Typed("<i>1</i>", ("admin: condition",)),
    "TreatmentOption.name": Typed(
        script("option"),
        (
            "home page",
            "patient: intake A",
            *draft(7),
            "physician: case E",  # the candidate form
            "admin: treatment options",
            "admin: treatment option",
            "admin: contraindication",
        ),
    ),
    "TreatmentOption.short_name": Typed(
        script("short name"),
        (*SUBMITTED, *draft(7), "admin: treatment option"),
    ),
    "TreatmentOption.patient_description": Typed(
        image("description"), ("home page", *draft(7), "admin: treatment option")
    ),
    "TreatmentOption.typical_sessions": Typed(
        link("sessions"), ("home page", "admin: treatment option")
    ),
    "TreatmentOption.cost_unit": Typed(
        script("cost unit"), ("home page", *draft(7), "admin: treatment option")
    ),
    "TreatmentOption.material_source": Typed(image("material"), ("admin: treatment option",)),
    "TreatmentOption.cost_note": Typed(link("cost note"), ("admin: treatment option",)),
    "TreatmentOption.regulatory_note": Typed(
        script("regulatory note"), ("admin: treatment option",)
    ),
    # Copied into the case's flag when the patient answers yes.
    "Contraindication.name": Typed(
        script("rule"), (*CASE_A, "admin: contraindications", "admin: contraindication")
    ),
    "Contraindication.screening_question": Typed(
        image("screening question"),
        ("patient: intake A", *draft(5, 8), *CASE_A, "admin: contraindication"),
    ),
    "Contraindication.source": Typed(link("rule source"), (*CASE_A, "admin: contraindication")),
    "RedFlag.name": Typed(  # the admin's case page has it in the priority's reason
        script("red flag"), (*CASE_A, "admin: red flags", "admin: red flag")
    ),
    "RedFlag.screening_question": Typed(
        image("symptom question"),
        ("patient: intake A", *draft(5, 8), *CASE_A, "admin: red flag"),
    ),
    "RedFlag.patient_advice": Typed(
        script("advice"), ("patient: intake A", *DRAFT_STEPS, "admin: red flag")
    ),
    "RedFlag.source": Typed(link("red flag source"), (*CASE_A, "admin: red flag")),
    "Instrument.name": Typed(
        script("instrument"),
        (*SUBMITTED, *draft(3, 8), "admin: instruments", "admin: instrument"),
    ),
    "Instrument.instructions": Typed(image("instructions"), (*draft(3), "admin: instrument")),
    "Instrument.score_label": Typed(
        link("score label"), (*SUBMITTED, *draft(8), "admin: instrument")
    ),
    "Instrument.licence_note": Typed(script("licence note"), ("admin: instrument",)),
    "Instrument.version": Typed(  # 20 characters at most
        "<i onclick=alert()>", ("admin: instruments", "admin: instrument")
    ),
    "InstrumentItem.text": Typed(image("item"), (*draft(3), "admin: instrument")),
    "AnswerOption.label": Typed(script("answer option"), (*draft(3), "admin: instrument")),
    # Published through the admin (``services.consent_publish``).
    "ConsentDocument.title": Typed(
        script("consent title"),
        (
            *draft(8),
            "admin: consent documents",
            "admin: consent document",
        ),
    ),
    "ConsentDocument.body": Typed(image("consent body"), (*draft(8), "admin: consent document")),
    "ConsentDocument.version": Typed(  # 20 characters at most
        "<b onclick=alert()>",
        (
            *draft(8),
            "admin: consent documents",
            "admin: consent document",
        ),
    ),
    # The physician's treatment plan for case A (version 1 shared, version 2 a draft),
    # and the estimate the front desk issues when the patient asks.
    "TreatmentPlan.note_to_patient": Typed(
        script("plan note"), ("physician: plan A", "patient: care A")
    ),
    "TreatmentPlan.change_reason": Typed(image("plan change"), ("physician: plan A",)),
    "PlanItem.adjustment_reason": Typed(link("charge reason"), ("physician: plan A",)),
    # The physician's own wording of one instruction for case A's procedure.
    "ProcedureInstruction.text": Typed(
        link("my instruction"), ("physician: plan A", "patient: care A")
    ),
    # The physician's record of case F's procedure (donor tissue), on its day; the
    # recall list finds the patient by the lot.
    "ProcedureRecord.product_name": Typed(
        script("tissue product"),
        ("physician: plan F", "patient: care F", "physician: donor tissue recall"),
    ),
    "ProcedureRecord.manufacturer": Typed(
        image("manufacturer"),
        ("physician: plan F", "patient: care F", "physician: donor tissue recall"),
    ),
    "ProcedureRecord.lot_number": Typed(  # 60 characters at most
        link("lot"),
        ("physician: plan F", "patient: care F", "physician: donor tissue recall"),
    ),
    "ProcedureRecord.note": Typed(image("procedure note"), ("physician: plan F",)),
    "GoodFaithEstimate.separately_scheduled": Typed(
        script("separately scheduled"), ("patient: estimate A", "front desk: estimate A")
    ),
    # A clinic admin, in the admin site: the care catalog (billable items and prices,
    # the clinic's closures and billing details, the estimate's disclaimers).
    "BillableItem.description": Typed(  # copied into plans and estimates
        script("billable item"),
        (
            "physician: plan A",
            "patient: estimate A",
            "admin: billable items",
            "admin: billable item",
        ),
    ),
    "BillableItem.code": Typed("<s>1</s>", ("admin: billable items", "admin: billable item")),
    "BillableItem.note": Typed(image("coding note"), ("admin: billable item",)),
    "InstructionTemplate.text": Typed(  # copied into case A's procedure, and approved
        script("instruction"),
        (
            "physician: plan A",
            "patient: care A",
            "admin: instruction templates",
            "admin: instruction template",
        ),
    ),
    "InstructionTemplate.source": Typed(
        image("instruction source"),
        ("physician: plan A", "admin: instruction templates", "admin: instruction template"),
    ),
    "ClinicHoliday.name": Typed(
        script("clinic holiday"), ("admin: clinic holidays", "admin: clinic holiday")
    ),
    "BillingProvider.name": Typed(
        image("billing provider"), ("admin: billing providers", "admin: billing provider")
    ),
    "BillingProvider.location": Typed(
        link("billing location"), ("admin: billing providers", "admin: billing provider")
    ),
    # Published through the admin (``care.services.estimates.disclaimer_publish``).
    "EstimateDisclaimer.body": Typed(script("disclaimer"), ("admin: estimate disclaimer",)),
    "EstimateDisclaimer.version": Typed(  # 20 characters at most
        "<u onclick=alert()>", ("admin: estimate disclaimers", "admin: estimate disclaimer")
    ),
}

# The patient's readable record (records:my_record) shows what their submitted intakes
# and their care pages show, except the physician's questions and their answers.
for _shown in (
    "Intake.legal_name",
    "Intake.signature_name",
    "Intake.address_line1",
    "Intake.address_line2",
    "Intake.city",
    "Intake.region",
    "Intake.postal_code",
    "Intake.emergency_contact_name",
    "Intake.emergency_contact_relationship",
    "PriorTreatment.details",
    "Intake.current_medicines",
    "Intake.allergies",
    "Intake.other_conditions",
    "ImagingStudy.facility",
    "ImagingFile.original_name",
    "Intake.goals",
    "Intake.guardian_name",
    "Intake.guardian_relationship",
    "ReviewDecision.message_to_patient (needs imaging)",
    "ReviewDecision.message_to_patient (candidate)",
    "ReviewDecision.message_to_patient (not a candidate)",
    "TreatmentPlan.note_to_patient",
):
    TYPED[_shown] = Typed(TYPED[_shown].payload, (*TYPED[_shown].shown_on, "patient: my record"))


def typed(key: str) -> str:
    return TYPED[key].payload


# Text fields nobody types, and why: checked against the models below, so a new text
# field needs a row in TYPED or a reason here. Choices, slugs, fields the forms cannot
# edit and django-pghistory's copies of tracked rows are left out automatically.
# Issue 23's Spanish columns of catalog data: shown by the same escaping templates as
# the English beside them, which has its payload row; their own rows are still to do.
SPANISH_COLUMN = "the Spanish of the English column beside it (admin catalog data)"
NOT_TYPED: dict[str, str] = {
    "Instrument.name_es": SPANISH_COLUMN,
    "Instrument.instructions_es": SPANISH_COLUMN,
    "Instrument.score_label_es": SPANISH_COLUMN,
    "InstrumentItem.text_es": SPANISH_COLUMN,
    "AnswerOption.label_es": SPANISH_COLUMN,
    "BodyRegion.name_es": SPANISH_COLUMN,
    "Condition.name_es": SPANISH_COLUMN,
    "Contraindication.screening_question_es": SPANISH_COLUMN,
    "RedFlag.screening_question_es": SPANISH_COLUMN,
    "RedFlag.patient_advice_es": SPANISH_COLUMN,
    "BillableItem.description_es": SPANISH_COLUMN,
    "TreatmentOption.name_es": SPANISH_COLUMN,
    "TreatmentOption.short_name_es": SPANISH_COLUMN,
    "TreatmentOption.typical_sessions_es": SPANISH_COLUMN,
    "TreatmentOption.cost_unit_es": SPANISH_COLUMN,
    "TreatmentOption.patient_description_es": SPANISH_COLUMN,
    "TreatmentOption.regulatory_note_es": SPANISH_COLUMN,
    "FollowUpTimepoint.name_es": SPANISH_COLUMN,
    "User.password": "a password hash, never shown",
    "PhysicianProfile.npi_number": "ten digits (validated)",
    "Intake.phone": "a phone number (validated; see test_phone_numbers_refuse_markup...)",
    "Intake.emergency_contact_phone": "a phone number (validated)",
    "Intake.consent_sha256": "a SHA-256 the system computes",
    "ImagingFile.sha256": "a SHA-256 the system computes",
    "Case.priority_reason": "written by the system from RedFlag.name and Contraindication.name",
    "CaseEvent.from_state": "a case state",
    "CaseEvent.to_state": "a case state",
    "CaseFlag.rule": "a copy of Contraindication.name",
    "Consultation.location": "a copy of WorkingHours.location",
    "ConsultationChangeRequest.resolution": "written by the system",
    "ConsultationType.name": "set by a data migration; no page or admin form edits it",
    "OutboundEmail.to": "a copy of User.email",
    "OutboundEmail.subject": "written by the system (no typed text in any subject)",
    "OutboundEmail.body": "written from the e-mail templates: the typed text it quotes is "
    "checked through its own rows (the admin's e-mail page is among their pages)",
    "OutboundEmail.calendar": "iCalendar text written by the system (not HTML)",
    "OutboundEmail.last_error": "an exception's class name",
    "AuditEvent.actor_role": "written by the system",
    "AuditEvent.record_type": "written by the system",
    "AuditEvent.record_id": "written by the system",
    "AuditEvent.request_id": "written by the system",
    "BillingProvider.npi_number": "ten digits (validated)",
    "BillingProvider.tin": "nine digits (validated)",
    # The care record: copies and what the system writes.
    "TreatmentPlan.icd10_code": "an ICD-10-CM code (validated by the plan's pattern)",
    "PlanItem.description": "a copy of BillableItem.description",
    "PlanItem.code": "a copy of BillableItem.code",
    "CareEvent.note": "written by the system (quotes an adjustment's reason); no page shows it",
    "EstimateDue.rule": "written by the system",
    "GoodFaithEstimate.patient_name": "a copy of Intake.legal_name",
    "GoodFaithEstimate.primary_service": "written from TreatmentOption.name and BodyRegion.name",
    "GoodFaithEstimate.diagnosis_codes": "a copy of TreatmentPlan.icd10_code",
    "GoodFaithEstimate.provider_name": "a copy of BillingProvider.name",
    "GoodFaithEstimate.provider_npi": "a copy of BillingProvider.npi_number",
    "GoodFaithEstimate.provider_tin": "a copy of BillingProvider.tin",
    "GoodFaithEstimate.provider_location": "a copy of BillingProvider.location",
    "GoodFaithEstimate.practitioner_name": "a copy of PhysicianProfile.display_name",
    "GoodFaithEstimate.practitioner_npi": "a copy of PhysicianProfile.npi_number",
    "GoodFaithEstimate.disclaimer_sha256": "a copy of EstimateDisclaimer.sha256",
    "EstimateLine.description": "a copy of PlanItem.description",
    "ProcedureInstruction.source": "a copy of InstructionTemplate.source",
    "EstimateLine.service_code": "written from PlanItem.code",
    "EstimateLine.diagnosis_code": "a copy of TreatmentPlan.icd10_code",
    # Follow-ups: what people type there is checked on the follow-up pages by
    # tests/care/test_followup_pages.py::test_typed_text_on_follow_up_pages_is_escaped.
    "FollowUpTimepoint.name": "typed in the admin; checked on every follow-up page there",
    "FollowUpCall.note": "typed by the front desk; no page shows it (checked there)",
    "FollowUp.label": "a copy of FollowUpTimepoint.name",
    "FollowUp.closed_reason": "written by the system",
    "FollowUpSeries.closed_reason": "written by the system",
    "FollowUpResponse.attention_reason": "written by the system from fixed questions",
}


# --- The world: every payload typed where a person would type it ---------------------------


@dataclass
class World:
    users: dict[str, User | None]
    # A booked, B declined, C to book, E waiting for its physician, F treated (allograft)
    cases: dict[str, Case]
    draft: Intake
    consultations: dict[str, Consultation]  # "1" cancelled, "2" booked with a request
    catalog: dict[str, models.Model]
    email: OutboundEmail  # the patient's 'consultation booked', still in the outbox
    on_commit: list[Callable[[], Any]] = field(default_factory=list)

    @property
    def consultation_day(self) -> date:
        return timezone.localtime(self.consultations["2"].starts_at).date()


def markup_in(html: str) -> list[str]:
    """What in ``html`` a browser would treat as a payload's markup: the text of any
    payload as it was typed, and any script, event handler or ``javascript:`` URL
    that runs a payload's ``alert(`` (also one cut short or rebuilt from pieces)."""
    found = [f"raw {key}" for key, row in TYPED.items() if row.payload in html]
    runs = _Runs()
    runs.feed(html)
    runs.close()
    return found + runs.found


class _Runs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            code = (value or "").strip().lower()
            runnable = name.startswith("on") or code.startswith("javascript:")
            if runnable and "alert(" in code:
                self.found.append(f"<{tag} {name}={value!r}>")
        kind = dict(attrs).get("type") or "text/javascript"
        self._script = tag == "script" and ("javascript" in kind or kind == "module")

    def handle_endtag(self, tag: str) -> None:
        self._script = False

    def handle_data(self, data: str) -> None:
        if self._script and "alert(" in data.lower():
            self.found.append(f"<script>{data[:60]}</script>")


class Browser:
    """A person's browser: every page it is shown on the way must hold no markup."""

    def __init__(self, user: User | None = None, **environ: Any) -> None:
        self.client = ClinicClient(**environ)
        if user is not None:
            self.client.force_login(user)

    def post(self, url: str, data: dict[str, Any] | None = None) -> Any:
        """Sends a form, follows the redirect, and fails if the form was not accepted
        (a page that answers a POST without redirecting is showing the form's errors)."""
        response = self._checked(url, self.client.post(url, data or {}, follow=True))
        assert response.redirect_chain, f"{url} refused the form: {errors_in(response)}"
        return response

    def _checked(self, url: str, response: Any) -> Any:
        assert response.status_code == 200, (url, response.status_code)
        markup = markup_in(response.content.decode())
        assert not markup, f"{url} (after {response.redirect_chain}) shows {markup}"
        return response


def errors_in(response: HttpResponse) -> list[str]:
    html = response.content.decode()
    return re.findall(r'class="(?:invalid-feedback|alert alert-danger)[^"]*"[^>]*>(.*?)<', html)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def step_url(intake: Intake, step: int) -> str:
    return reverse("intake:step", kwargs={"public_id": intake.public_id, "step": step})


def case_url(name: str, case: Case) -> str:
    return reverse(name, kwargs={"public_id": case.public_id})


def the_catalog_as_typed_in_the_admin() -> dict[str, models.Model]:
    """A clinic admin writes every catalog field's payload into one row of each kind:
    the rows a patient's answers point at (the knee, its condition, PRP, the infection
    rule, the first red flag, the first questionnaire) and a new consent text."""
    rows: dict[str, models.Model] = {
        "body region": BodyRegion.objects.get(slug="knee"),
        "condition": Condition.objects.filter(body_region__slug="knee").order_by("pk")[0],
        # Its billable code for one side, typed in the condition page's inline.
        "condition code": ConditionCode.objects.filter(
            condition=Condition.objects.filter(body_region__slug="knee").order_by("pk")[0]
        ).order_by("pk")[0],
        "treatment option": TreatmentOption.objects.get(slug="prp"),
        "contraindication": Contraindication.objects.get(slug="infection"),
        "red flag": RedFlag.objects.get(slug="hot-swollen-joint-with-fever"),
    }
    rows["billable item"] = BillableItem.objects.get(code="0232T")
    rows["instruction template"] = InstructionTemplate.objects.filter(option__slug="prp")[0]
    rows["clinic holiday"] = ClinicHoliday(day=date(2030, 12, 26), name="-")
    rows["billing provider"] = BillingProvider(
        name="-", npi_number="1234567893", tin="12-3456789", location="-"
    )
    rows["instrument"] = instrument = Instrument.objects.filter(in_intake=True, is_active=True)[0]
    rows["instrument item"] = InstrumentItem.objects.filter(instrument=instrument)[0]
    rows["answer option"] = AnswerOption.objects.filter(instrument=instrument)[0]
    for row in rows.values():
        prefix = f"{type(row).__name__}."
        for key, value in TYPED.items():
            if key.startswith(prefix) and " " not in key:
                setattr(row, key.removeprefix(prefix), value.payload)
        row.full_clean()  # what the admin's form would refuse, the admin cannot type
        row.save()
    rows["consent document"] = services.consent_publish(
        version=typed("ConsentDocument.version"),
        title=typed("ConsentDocument.title"),
        body=typed("ConsentDocument.body"),
    )
    rows["estimate disclaimer"] = disclaimer_publish(
        version=typed("EstimateDisclaimer.version"), body=typed("EstimateDisclaimer.body")
    )
    return rows


def intake_answers(*, minor: bool, red_flag: bool) -> dict[int, dict[str, Any]]:
    """Steps 1-7 as the patient's browser sends them, every free-text box filled."""
    knee = BodyRegion.objects.get(slug="knee")
    condition = Condition.objects.filter(body_region=knee).order_by("pk")[0]
    yes = {"infection": "yes", "hot-swollen-joint-with-fever": "yes"} if red_flag else {}
    return {
        1: about_post(
            legal_name=typed("Intake.legal_name"),
            date_of_birth=f"{timezone.localdate().year - 12}-01-01" if minor else "1970-05-17",
            address_line1=typed("Intake.address_line1"),
            address_line2=typed("Intake.address_line2"),
            city=typed("Intake.city"),
            region=typed("Intake.region"),
            postal_code=typed("Intake.postal_code"),
            emergency_contact_name=typed("Intake.emergency_contact_name"),
            emergency_contact_relationship=typed("Intake.emergency_contact_relationship"),
        ),
        2: pain_post(
            {
                "body_region": knee.pk,
                "side": "left",
                "condition": condition.pk,
                "started_on": "2024-03-01",
                "onset": "gradual",
                "pain_now": "6",
                "pain_worst_week": "8",
            }
        ),
        3: function_post(),
        4: tried_post(
            surgery={
                "tried": "yes",
                "last_on": "2023-06-01",
                "details": typed("PriorTreatment.details"),
                "outcome": "some",
            }
        ),
        5: health_post(**yes)
        | {
            "current_medicines": typed("Intake.current_medicines"),
            "allergies": typed("Intake.allergies"),
            "other_conditions": typed("Intake.other_conditions"),
        },
        6: imaging_post(
            "yes",
            {
                "modality": "mri",
                "body_region": knee.pk,
                "done_on": "2024-01-10",
                "facility": typed("ImagingStudy.facility"),
            },
        )
        | {
            "upload": SimpleUploadedFile(
                typed("ImagingFile.original_name"), _png(), content_type="image/png"
            )
        },
        7: goals_post(
            goals=typed("Intake.goals"),
            payment="insurance",
            insurance_carrier=typed("Intake.insurance_carrier"),
            insurance_member_id=typed("Intake.insurance_member_id"),
            interested_options=[TreatmentOption.objects.get(slug="prp").pk],
        ),
    }


def intake_through_the_pages(
    patient: Browser, user: User, *, minor: bool = False, red_flag: bool = False
) -> Case:
    """A new intake, every step typed and sent, signed, submitted and routed."""
    patient.post(reverse("intake:new"))
    intake = Intake.objects.get(patient=user, status=Intake.Status.DRAFT)
    for step, data in intake_answers(minor=minor, red_flag=red_flag).items():
        patient.post(step_url(intake, step), data)
    guardian = {
        "guardian_name": typed("Intake.guardian_name"),
        "guardian_relationship": typed("Intake.guardian_relationship"),
        "guardian_signature_name": typed("Intake.guardian_signature_name"),
    }
    patient.post(
        step_url(intake, 8),
        consent_post(typed("Intake.signature_name"), **(guardian if minor else {})),
    )
    # What the on-commit task does (the test's transaction never commits).
    return case_route(case_id=Case.objects.get(intake=intake).pk)


def the_patient_answers(patient: Browser, case: Case) -> None:
    """The patient answers the physician's open request on their intake page."""
    request = InformationRequest.objects.get(case=case, answered_at__isnull=True)
    patient.post(
        reverse(
            "intake:information_answer",
            kwargs={"public_id": case.intake.public_id, "request_id": request.public_id},
        ),
        {f"{request.public_id}-answer": typed("InformationRequest.answer")},
    )


def a_candidate(**typed_in: str) -> dict[str, Any]:
    """The physician's 'candidate' form: PRP, a new consultation in person, routine."""
    return {
        "candidate-options": [TreatmentOption.objects.get(slug="prp").pk],
        "candidate-consultation_type": "new",
        "candidate-consultation_mode": "in_person",
        "candidate-urgency": "routine",
        "candidate-message_to_patient": typed("ReviewDecision.message_to_patient (candidate)"),
        "candidate-internal_note": typed("ReviewDecision.internal_note (candidate)"),
        **{f"candidate-{name}": value for name, value in typed_in.items()},
    }


def the_desk_books(desk: Browser, case: Case, starts_at: datetime) -> Consultation:
    desk.post(case_url("frontdesk:book", case), {"starts_at": starts_at.isoformat()})
    return Consultation.objects.get(case=case, state=Consultation.State.BOOKED)


def the_patient_asks_to(patient: Browser, kind: str, consultation: Consultation) -> None:
    patient.post(
        reverse("intake:consultation_change", args=[consultation.public_id]),
        {"change-kind": kind, "change-message": typed("ConsultationChangeRequest.message")},
    )


def staff_as_set_up_in_the_admin() -> tuple[User, User, User, User]:
    """A physician (for knees and hips) and a colleague (spines), both working every day
    at a place whose name is a payload; the front desk; a clinic admin."""
    physician = PhysicianFactory.create(
        regions=["knee", "hip"],
        display_name=typed("PhysicianProfile.display_name"),
        licence_number=typed("PhysicianProfile.licence_number"),
    ).user
    physician.physician_profile.full_clean()
    colleague = PhysicianFactory.create(regions=["spine"]).user
    for person in (physician, colleague):
        working_hours(
            person.physician_profile, weekdays=range(7), location=typed("WorkingHours.location")
        )
    desk = UserFactory.create(
        role=Role.FRONT_DESK, full_name=typed("User.full_name (front desk, in the admin)")
    )
    admin_user = UserFactory.create(role=Role.CLINIC_ADMIN, is_staff=True, is_superuser=True)
    return physician, colleague, desk, admin_user


def the_patient_signs_up() -> tuple[Browser, User]:
    """Sign-up, the e-mailed link to confirm the address, and a login on a second
    device (whose browser names itself with markup, which django-axes records)."""
    patient = Browser()
    patient.post(
        reverse("intake:signup"),
        {
            "full_name": typed("User.full_name (patient, at sign-up)"),
            "email": typed("User.email (patient, at sign-up)"),
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    user = User.objects.get(full_name=typed("User.full_name (patient, at sign-up)"))
    assert user.email == typed("User.email (patient, at sign-up)")
    link = re.search(
        r"/accounts/verify/[^/\s]+/[^/\s]+/", OutboundEmail.objects.get(to=user.email).body
    )
    assert link is not None
    patient.post(link.group())
    Browser(HTTP_USER_AGENT=typed("AccessLog.user_agent (a login)")).post(
        reverse("login"), {"username": user.email, "password": PASSWORD}
    )
    return patient, user


def a_visitor_fails_to_log_in() -> None:
    """With markup for a name, from a browser that names itself with markup, and from
    an address of its own (a login from the same address would clear the attempt)."""
    visitor = Browser(
        HTTP_USER_AGENT=typed("AccessAttempt.user_agent (a failed login)"),
        REMOTE_ADDR="203.0.113.66",
    )
    refused = visitor.client.post(
        reverse("login"),
        {"username": typed("AccessAttempt.username (a failed login)"), "password": "wrong"},
    )
    assert refused.status_code == 200
    assert not markup_in(refused.content.decode())


def the_procedure_recorded(
    doctor: Browser, desk: Browser, patient: Browser, patient_user: User, physician: User
) -> Case:
    """Case F: a candidate; the physician plans donor tissue (allograft) and shares the
    plan; the front desk books the procedure; on its day the physician records it, with
    the product, manufacturer and lot copied from the label, and a note."""
    f = intake_through_the_pages(patient, patient_user)
    doctor.post(case_url("review:claim", f))
    doctor.post(case_url("review:candidate", f), a_candidate())
    allograft = TreatmentOption.objects.get(slug="allograft")
    doctor.post(
        reverse("care:plan", args=[f.public_id]),
        {
            "options": [allograft.pk],
            "body_region": BodyRegion.objects.get(slug="knee").pk,
            "side": "left",
            "condition": "",
            "icd10_code": "M17.12",
            "sessions": "1",
            "weeks_between_sessions": "0",
            "guidance": "ultrasound",
            "harvest_source": "",
            "note_to_patient": "",
        },
    )
    doctor.post(reverse("care:plan_share", args=[TreatmentPlan.objects.get(case=f).public_id]))
    starts_at = free_slots(
        physician=physician.physician_profile,
        consultation_type=procedure_type(),
        start_day=timezone.localdate() + timedelta(days=20),
        days=5,
    )[0].starts_at
    desk.post(
        reverse("care:procedure_book", args=[f.public_id]), {"starts_at": starts_at.isoformat()}
    )
    procedure = Consultation.objects.get(case=f, consultation_type__slug="injection-procedure")
    with time_machine.travel(starts_at + timedelta(minutes=50), tick=False):
        Browser(physician).post(  # days later: a new session
            reverse("care:procedure_record", args=[procedure.public_id]),
            {
                "performed_time": timezone.localtime(starts_at + timedelta(minutes=5)).strftime(
                    "%H:%M"
                ),
                "option": allograft.pk,
                "body_region": BodyRegion.objects.get(slug="knee").pk,
                "side": "left",
                "guidance": "ultrasound",
                "volume_injected_ml": "4.0",
                "harvest_site": "",
                "product_name": typed("ProcedureRecord.product_name"),
                "manufacturer": typed("ProcedureRecord.manufacturer"),
                "lot_number": typed("ProcedureRecord.lot_number"),
                "lot_expires_on": "2030-06-30",
                "complication": "none",
                "note": typed("ProcedureRecord.note"),
            },
        )
    return f


def build_world() -> World:
    catalog = the_catalog_as_typed_in_the_admin()
    physician, colleague, desk_user, admin_user = staff_as_set_up_in_the_admin()
    patient, patient_user = the_patient_signs_up()
    doctor, other_doctor, desk = Browser(physician), Browser(colleague), Browser(desk_user)

    # Case A: imaging asked for and answered, a question asked and answered, a candidate
    # despite a hard stop (the patient has an infection); booked; the patient asks to
    # move it, so the front desk cancels and books again; the patient asks to cancel that.
    a = intake_through_the_pages(patient, patient_user, red_flag=True)
    doctor.post(case_url("review:claim", a))
    doctor.post(
        case_url("review:imaging", a),
        {
            "imaging-modality": "xray",
            "imaging-region": catalog["body region"].pk,
            "imaging-message_to_patient": typed(
                "ReviewDecision.message_to_patient (needs imaging)"
            ),
            "imaging-internal_note": typed("ReviewDecision.internal_note (needs imaging)"),
        },
    )
    the_patient_answers(patient, a)
    doctor.post(case_url("review:ask", a), {"ask-question": typed("InformationRequest.question")})
    the_patient_answers(patient, a)
    doctor.post(
        case_url("review:candidate", a),
        a_candidate(override_reason=typed("ReviewDecision.override_reason")),
    )
    first, second = free_slots(
        physician=physician.physician_profile,
        consultation_type=ConsultationType.objects.get(slug="new-consultation"),
        start_day=timezone.localdate() + timedelta(days=2),
        days=3,
    )[:2]
    cancelled = the_desk_books(desk, a, first.starts_at)
    the_patient_asks_to(patient, "reschedule", cancelled)
    desk.post(
        reverse("frontdesk:cancel", args=[cancelled.public_id]),
        {"cancel-reason": typed("Consultation.cancel_reason")},
    )
    booked = the_desk_books(desk, a, second.starts_at)
    the_patient_asks_to(patient, "cancel", booked)
    # The physician's evening off that day, entered in the admin.
    evening, _ = local_day_range(timezone.localtime(booked.starts_at).date())
    TimeOff.objects.create(
        physician=physician.physician_profile,
        starts_at=evening + timedelta(hours=20),
        ends_at=evening + timedelta(hours=21),
        reason=typed("TimeOff.reason"),
    )

    # After the consultation, the physician writes case A's plan, adjusts a charge,
    # shares it and starts a second version; the patient (who has insurance) asks for
    # a Good Faith Estimate, and the front desk issues it.
    doctor.post(
        reverse("care:plan", args=[a.public_id]),
        {
            "options": [catalog["treatment option"].pk],
            "body_region": catalog["body region"].pk,
            "side": "left",
            "condition": "",
            "icd10_code": "M17.12",
            "sessions": "1",
            "weeks_between_sessions": "0",
            "guidance": "ultrasound",
            "harvest_source": "",
            "note_to_patient": typed("TreatmentPlan.note_to_patient"),
        },
    )
    plan = TreatmentPlan.objects.get(case=a)
    item = plan.items.get()
    doctor.post(
        reverse("care:plan_item", args=[item.public_id]),
        {
            f"item-{item.public_id}-quantity": "1",
            f"item-{item.public_id}-charge": "900",
            f"item-{item.public_id}-reason": typed("PlanItem.adjustment_reason"),
        },
    )
    doctor.post(reverse("care:plan_share", args=[plan.public_id]))
    doctor.post(
        reverse("care:plan_revise", args=[plan.public_id]),
        {"reason": typed("TreatmentPlan.change_reason")},
    )
    patient.post(reverse("care:estimate_request", args=[a.public_id]))
    desk.post(
        reverse("care:estimate_issue", args=[a.public_id]),
        {"separately_scheduled": typed("GoodFaithEstimate.separately_scheduled")},
    )
    # The front desk books the procedure; the physician drafts its instructions from the
    # templates, rewrites one, and approves them.
    procedure_at = free_slots(
        physician=physician.physician_profile,
        consultation_type=procedure_type(),
        start_day=timezone.localdate() + timedelta(days=10),
        days=5,
    )[0].starts_at
    desk.post(
        reverse("care:procedure_book", args=[a.public_id]), {"starts_at": procedure_at.isoformat()}
    )
    procedure = Consultation.objects.get(case=a, consultation_type__slug="injection-procedure")
    doctor.post(reverse("care:instructions_draft", args=[procedure.public_id]))
    mine = procedure.instructions.get(text__startswith="do not take ibuprofen")
    doctor.post(
        reverse("care:instruction_edit", args=[mine.public_id]),
        {
            f"instruction-{mine.public_id}-text": typed("ProcedureInstruction.text"),
            f"instruction-{mine.public_id}-days_from_procedure": "-5",
        },
    )
    doctor.post(reverse("care:instructions_approve", args=[procedure.public_id]))

    # Case B, a minor's, signed with a parent: not a candidate.
    b = intake_through_the_pages(patient, patient_user, minor=True)
    doctor.post(
        case_url("review:not_candidate", b),
        {
            "decline-reason": typed("ReviewDecision.reason (not a candidate)"),
            "decline-message_to_patient": typed(
                "ReviewDecision.message_to_patient (not a candidate)"
            ),
            "decline-internal_note": typed("ReviewDecision.internal_note (not a candidate)"),
        },
    )
    # Case C: reassigned to the colleague, who asks for a consultation (not booked yet).
    c = intake_through_the_pages(patient, patient_user)
    doctor.post(
        case_url("review:reassign", c),
        {
            "reassign-physician": colleague.pk,
            "reassign-reason": typed("CaseEvent.note (reason for reassigning)"),
        },
    )
    other_doctor.post(case_url("review:claim", c))
    other_doctor.post(case_url("review:candidate", c), a_candidate())
    # Case E: waiting in the physician's queue.
    e = intake_through_the_pages(patient, patient_user)
    f = the_procedure_recorded(doctor, desk, patient, patient_user, physician)
    # After case F's procedure day: a login then (weeks ahead) clears failed logins
    # older than django-axes' cool-off, as it would this one.
    a_visitor_fails_to_log_in()

    # A draft: steps 1-6 saved, step 7 typed without a payment choice and left ("save
    # and finish later" keeps it as typed), started long enough ago to be on the front
    # desk's list, and a reminder sent.
    patient.post(reverse("intake:new"))
    draft = Intake.objects.get(patient=patient_user, status=Intake.Status.DRAFT)
    answers = intake_answers(minor=False, red_flag=True)
    for step in range(1, 7):
        patient.post(step_url(draft, step), answers[step])
    patient.post(step_url(draft, 7), answers[7] | {"payment": "", "action": "exit"})
    Intake.objects.filter(pk=draft.pk).update(
        created_at=timezone.now() - timedelta(days=settings.INCOMPLETE_INTAKE_DAYS + 1)
    )
    desk.post(reverse("frontdesk:incomplete_remind", args=[draft.public_id]))

    # Every form above was accepted (``Browser.post``); these say it did what it should.
    for case, state in (
        (a, "booked"),
        (b, "not_candidate"),
        (c, "consult_requested"),
        (f, "treated"),
    ):
        case.refresh_from_db()
        assert case.state == state, (case, case.state)
    cancelled.refresh_from_db()
    assert cancelled.state == Consultation.State.CANCELLED
    draft.refresh_from_db()
    assert draft.pending_answers.get("7") and draft.reminder_count == 1
    return World(
        users={
            "anon": None,
            "patient": patient_user,
            "physician": physician,
            "desk": desk_user,
            "admin": admin_user,
        },
        cases={"A": a, "B": b, "C": c, "E": e, "F": f},
        draft=draft,
        consultations={"1": cancelled, "2": booked},
        catalog=catalog,
        email=OutboundEmail.objects.filter(
            to=patient_user.email, subject__startswith="Your consultation is booked"
        )[0],
    )


@pytest.fixture
def world(db: None, django_capture_on_commit_callbacks: Any, settings: Any) -> World:
    # Off in the clinic's settings; on here, so that its admin page is checked too.
    settings.AXES_ENABLE_ACCESS_FAILURE_LOG = True
    # The on-commit work (delivering e-mails) is kept for the e-mail test, so the outbox
    # still holds every body when the pages are opened.
    with django_capture_on_commit_callbacks(execute=False) as on_commit:
        built = build_world()
    built.on_commit = on_commit
    return built


# --- The pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    viewer: str  # a key of World.users
    url_name: str
    args: Callable[[World], list[Any]] = lambda world: []
    query: Callable[[World], str] = lambda world: ""
    shows: Callable[[str], str] = escape  # how a field's text looks on the page

    def url(self, world: World) -> str:
        return reverse(self.url_name, args=self.args(world)) + self.query(world)


def _intake(case: str) -> Callable[[World], list[Any]]:
    return lambda world: [world.cases[case].intake.public_id]


def _step(n: int) -> Callable[[World], list[Any]]:
    return lambda world: [world.draft.public_id, n]


def _case(case: str) -> Callable[[World], list[Any]]:
    return lambda world: [world.cases[case].public_id]


def _consultation(n: str) -> Callable[[World], list[Any]]:
    return lambda world: [world.consultations[n].public_id]


def _on_the_day(world: World) -> str:
    return f"?date={world.consultation_day:%Y-%m-%d}"


def _admin(model: str, row: Callable[[World], models.Model] | None = None) -> Page:
    """A model's list in the admin, or (given the row) its change page."""
    if row is None:
        return Page("admin", f"admin:{model}_changelist")
    return Page("admin", f"admin:{model}_change", lambda world: [row(world).pk])


def _catalog(name: str) -> Callable[[World], models.Model]:
    return lambda world: world.catalog[name]


def _estimate(world: World) -> Any:
    return GoodFaithEstimate.objects.filter(case=world.cases["A"]).latest().public_id


def _user(key: str) -> Callable[[World], User]:
    def user(world: World) -> User:
        found = world.users[key]
        assert found is not None
        return found

    return user


PAGES: dict[str, Page] = {
    "home page": Page("anon", "home"),
    "patient: home": Page("patient", "intake:home"),
    "patient: my record": Page("patient", "records:my_record"),
    "patient: intake A": Page("patient", "intake:detail", _intake("A")),
    "patient: intake B": Page("patient", "intake:detail", _intake("B")),
    **{f"patient: draft, step {n}": Page("patient", "intake:step", _step(n)) for n in range(1, 9)},
    "physician: queue": Page("physician", "review:queue"),
    "physician: case A": Page("physician", "review:case", _case("A")),
    "physician: case A, printable": Page("physician", "review:case_print", _case("A")),
    "physician: case B": Page("physician", "review:case", _case("B")),
    "physician: case C": Page("physician", "review:case", _case("C")),
    "physician: case E": Page("physician", "review:case", _case("E")),
    "physician: calendar": Page("physician", "review:calendar", query=_on_the_day),
    "front desk: home": Page("desk", "frontdesk:home"),
    "front desk: book C": Page("desk", "frontdesk:book", _case("C")),
    "front desk: move consultation 2": Page("desk", "frontdesk:reschedule", _consultation("2")),
    "front desk: consultation 1": Page("desk", "frontdesk:consultation", _consultation("1")),
    "front desk: consultation 2": Page("desk", "frontdesk:consultation", _consultation("2")),
    "front desk: day": Page("desk", "frontdesk:day", query=_on_the_day),
    "front desk: incomplete intakes": Page("desk", "frontdesk:incomplete"),
    "admin: audit log": Page("admin", "audit_log"),
    "admin: users": _admin("clinic_user"),
    "admin: patient": _admin("clinic_user", _user("patient")),
    "admin: front desk": _admin("clinic_user", _user("desk")),
    "admin: physicians": _admin("clinic_physicianprofile"),
    "admin: physician": _admin(
        "clinic_physicianprofile",
        lambda world: PhysicianProfile.objects.get(user=_user("physician")(world)),
    ),
    "admin: outbox": _admin("clinic_outboundemail"),
    "admin: e-mail": _admin("clinic_outboundemail", lambda world: world.email),
    "admin: body regions": _admin("treatments_bodyregion"),
    "admin: body region": _admin("treatments_bodyregion", _catalog("body region")),
    "admin: conditions": _admin("treatments_condition"),
    "admin: condition": _admin("treatments_condition", _catalog("condition")),
    "admin: treatment options": _admin("treatments_treatmentoption"),
    "admin: treatment option": _admin("treatments_treatmentoption", _catalog("treatment option")),
    "admin: contraindications": _admin("treatments_contraindication"),
    "admin: contraindication": _admin("treatments_contraindication", _catalog("contraindication")),
    "admin: red flags": _admin("treatments_redflag"),
    "admin: red flag": _admin("treatments_redflag", _catalog("red flag")),
    "admin: instruments": _admin("intake_instrument"),
    "admin: instrument": _admin("intake_instrument", _catalog("instrument")),
    "admin: consent documents": _admin("intake_consentdocument"),
    "admin: consent document": _admin("intake_consentdocument", _catalog("consent document")),
    "physician: plan A": Page("physician", "care:plan", _case("A")),
    "physician: plan F": Page("physician", "care:plan", _case("F")),
    "patient: care F": Page("patient", "care:patient_care", _case("F")),
    "physician: donor tissue recall": Page(
        "physician",
        "care:lot_recall",
        query=lambda world: "?" + urlencode({"lot": typed("ProcedureRecord.lot_number")}),
    ),
    "patient: care A": Page("patient", "care:patient_care", _case("A")),
    "patient: estimate A": Page("patient", "care:estimate", lambda world: [_estimate(world)]),
    "front desk: estimates": Page("desk", "care:estimates"),
    "front desk: book procedure A": Page("desk", "care:procedure_book", _case("A")),
    "front desk: estimate A": Page("desk", "care:estimate", lambda world: [_estimate(world)]),
    "admin: billable items": _admin("care_billableitem"),
    "admin: billable item": _admin("care_billableitem", _catalog("billable item")),
    "admin: instruction templates": _admin("care_instructiontemplate"),
    "admin: instruction template": _admin(
        "care_instructiontemplate", _catalog("instruction template")
    ),
    "admin: clinic holidays": _admin("care_clinicholiday"),
    "admin: clinic holiday": _admin("care_clinicholiday", _catalog("clinic holiday")),
    "admin: billing providers": _admin("care_billingprovider"),
    "admin: billing provider": _admin("care_billingprovider", _catalog("billing provider")),
    "admin: estimate disclaimers": _admin("care_estimatedisclaimer"),
    "admin: estimate disclaimer": _admin(
        "care_estimatedisclaimer", _catalog("estimate disclaimer")
    ),
    "admin: access attempts": _admin("axes_accessattempt"),
    "admin: access failures": _admin("axes_accessfailurelog"),
    "admin: access log": _admin("axes_accesslog"),
}


# --- The tests ----------------------------------------------------------------------------


def test_every_page_shows_what_was_typed_as_text(world: World) -> None:
    problems: list[str] = []
    for name, page in PAGES.items():
        response = Browser(world.users[page.viewer]).client.get(page.url(world))
        if response.status_code != 200:
            problems.append(f"{name}: answered {response.status_code}")
            continue
        html = response.content.decode()
        problems += [f"{name}: {markup}" for markup in markup_in(html)]
        problems += [
            f"{name}: {key} is not shown (escaped)"
            for key, row in TYPED.items()
            if name in row.shown_on and page.shows(row.payload) not in html
        ]
    assert not problems, "\n".join(problems)


def test_e_mails_are_plain_text_and_quote_what_was_typed_as_typed(world: World) -> None:
    mail.outbox.clear()
    for callback in world.on_commit:  # routing again (a no-op) and delivering the outbox
        callback()
    assert not OutboundEmail.objects.filter(sent_at__isnull=True).exists()
    kinds = set()
    for message in mail.outbox:
        parts = [(f"text/{message.content_subtype}", str(message.body))]
        parts += [(kind, str(content)) for content, kind in getattr(message, "alternatives", [])]
        parts += [(str(kind), str(content)) for _, content, kind in message.attachments]
        for kind, content in parts:
            kinds.add(kind.split(";")[0])
            if kind.startswith("text/html"):
                assert not markup_in(content), (message.subject, kind)
    # What the clinic sends today: plain text and calendar invitations, nothing a mail
    # client renders as HTML. An HTML part is checked above like a page.
    assert kinds == {"text/plain", "text/calendar"}
    # Plain text must not be escaped: the patient reads their name, not "&lt;script&gt;".
    name, doctor = (
        typed("User.full_name (patient, at sign-up)"),
        typed("PhysicianProfile.display_name"),
    )
    quoted = {
        "Confirm your e-mail address": [name.split(" ")[0]],  # "Hello <first name>"
        "We received your intake": [typed("Intake.legal_name")],
        "Your physician": [name],
        "Urgent case": [doctor],
        "Your consultation is booked": [name, doctor, typed("WorkingHours.location")],
        "Your consultation is cancelled": [name, doctor, typed("WorkingHours.location")],
        "Your intake for": [name],
    }
    for subject, texts in quoted.items():
        bodies = [str(m.body) for m in mail.outbox if m.subject.startswith(subject)]
        assert bodies, f"no e-mail '{subject}...' was sent"
        for text in texts:
            assert all(text in body for body in bodies), (subject, text)
            assert not any(escape(text) in body for body in bodies), (subject, text)
    # The patient's address, markup and all, is one the mail backend delivers to.
    to_patient = [m for m in mail.outbox if m.to == [typed("User.email (patient, at sign-up)")]]
    assert len(to_patient) >= len(quoted)


def test_phone_numbers_refuse_markup_and_keep_it_as_text(login: Any, patient: User) -> None:
    """Phone numbers are the intake's only text boxes not in TYPED: they hold a number
    or nothing. What the patient typed is kept for them (a step that does not validate
    keeps its answers) and shown back as text."""
    client = login(patient)
    client.post(reverse("intake:new"))
    intake = Intake.objects.get(patient=patient)
    phone, contact_phone = script("phone"), image("contact phone")
    response = client.post(
        step_url(intake, 1), about_post(phone=phone, emergency_contact_phone=contact_phone)
    )
    assert "Enter a phone number we can call" in response.content.decode()
    intake.refresh_from_db()
    assert (intake.phone, intake.emergency_contact_phone) == ("", "")
    assert intake.pending_answers["1"]["phone"] == [phone]
    page = client.get(step_url(intake, 1)).content.decode()
    for payload in (phone, contact_phone):
        assert payload not in page and escape(payload) in page
    assert not markup_in(page)


def test_the_markup_check_finds_payloads_however_they_arrive() -> None:
    """The check would notice markup however a payload arrived: as typed, cut short (a
    first name split off a full name), in a link; and escaped text, on the page or in
    an attribute, is not markup."""
    assert markup_in(f"<p>{script('city')}</p>") == [
        "raw Intake.city",
        '<script>alert("city")</script>',
    ]
    assert markup_in('<p>Welcome, "><img src=x onerror=alert(1)></p>') == [
        "<img onerror='alert(1)'>"
    ]
    assert markup_in("<a href=' JavaScript:alert(2)'>x</a>") == ["<a href=' JavaScript:alert(2)'>"]
    assert markup_in(f'<p>{escape(script("city"))}</p><input value="{escape(image("x"))}">') == []


# --- The tables cover everything ------------------------------------------------------------


def _copied_by_pghistory(model: type[models.Model]) -> bool:
    return any(f.name == "pgh_obj" for f in model._meta.get_fields())


def test_every_free_text_field_has_a_row() -> None:
    """A new CharField or TextField in the clinic's apps needs a row in TYPED (with a
    payload and the pages that show it) or a reason in NOT_TYPED."""
    text_fields = {
        f"{model.__name__}.{f.name}"
        for app in ("clinic", "intake", "treatments", "care")
        for model in apps.get_app_config(app).get_models()
        if not _copied_by_pghistory(model)
        for f in model._meta.get_fields()
        if isinstance(f, models.CharField | models.TextField)
        and not f.choices
        and f.editable
        and not isinstance(f, models.SlugField)
    }
    covered = {key.split(" ")[0] for key in TYPED} | set(NOT_TYPED)
    assert sorted(text_fields - covered) == [], "free-text fields with no row"
    ours = {key for key in covered if not key.startswith(("AccessAttempt.", "AccessLog."))}
    assert sorted(ours - text_fields) == [], "rows for fields that no longer exist"


# URLs that show nobody's typed text as a page of their own, and why.
NOT_A_PAGE_OF_TYPED_TEXT: dict[str, str] = {
    "admin:index": "the admin's pages are listed model by model (see the admin test)",
    "healthz": "JSON about the database and broker",
    "favicon": "a redirect to the static icon",
    "login": "the login form; a refused login is checked in the world",
    "logout": "POST only",
    "password_change": "a form of empty password fields",
    "password_change_done": "a fixed text",
    "password_reset": "a form with one empty field",
    "password_reset_done": "a fixed text",
    "password_reset_confirm": "a form of empty password fields",
    "password_reset_complete": "a fixed text",
    "verify_email": "a button; used in the world",
    "verify_email_resend": "POST only",
    "language_set": "POST only",
    "role_home": "a redirect",
    "session": "JSON: seconds left",
    "two_factor_setup": "the staff member's own QR code (a fixed SVG title) and secret",
    "two_factor_verify": "a form with one empty field",
    "two_factor_recovery": "the staff member's own recovery codes",
    "intake:signup": "the sign-up form, used in the world",
    "intake:new": "POST only",
    "intake:file": "the uploaded file itself, served with a sandboxing CSP",
    "intake:file_remove": "POST only",
    "intake:information_answer": "POST (used in the world); shows intake:detail on an error",
    "intake:consultation_change": "POST (used in the world); shows intake:home on an error",
    "intake:consultation_calendar": "an iCalendar file, not HTML",
    "records:case_fhir": "a FHIR JSON download, not HTML",
    "records:my_record_fhir": "a FHIR JSON download, not HTML (its 429 page shows a number)",
    "review:next": "POST only",
    "review:claim": "POST only",
    "review:release": "POST only",
    "review:reassign": "POST (used in the world); shows review:case on an error",
    "review:ask": "POST (used in the world); shows review:case on an error",
    "review:imaging": "POST (used in the world); shows review:case on an error",
    "review:candidate": "POST (used in the world); shows review:case on an error",
    "review:not_candidate": "POST (used in the world); shows review:case on an error",
    "frontdesk:check_in": "POST only",
    "frontdesk:complete": "POST only",
    "frontdesk:no_show": "POST only",
    "frontdesk:cancel": "POST (used in the world); shows frontdesk:consultation on an error",
    "frontdesk:request_handled": "POST only",
    "frontdesk:incomplete_remind": "POST only",
    "care:plan_share": "POST only",
    "care:procedure_record": "POST (used in the world); shows care:plan on an error",
    "care:instructions_acknowledge": "POST only",
    "care:instructions_draft": "POST only",
    "care:instructions_approve": "POST only",
    "care:instruction_drop": "POST only",
    "care:instruction_edit": "POST (used in the world); shows care:plan on an error",
    "care:plan_item": "POST (used in the world); shows care:plan on an error",
    "care:plan_revise": "POST (used in the world); shows care:plan on an error",
    "care:estimate_request": "POST only",
    "care:estimate_download": "a PDF file, not HTML (its text is drawn, never parsed as markup)",
    "care:estimate_acknowledge": "POST only",
    "care:estimate_issue": "POST (used in the world); shows care:estimates on an error",
    # Checked by tests/care/test_followup_pages.py::test_typed_text_on_follow_up_pages_is_escaped
    # (a treated patient with a follow-up on the call list, answered with a complication).
    "care:followup": "checked in tests/care/test_followup_pages.py",
    "care:followup_calls": "checked in tests/care/test_followup_pages.py",
    "care:outcomes": "checked in tests/care/test_followup_pages.py",
    "care:followup_preferences": "POST only",
    "care:followup_review": "POST only",
    "care:followup_call": "POST; shows care:followup_calls on an error",
}


def test_every_url_is_a_page_in_the_table_or_shows_no_typed_text() -> None:
    in_table = {page.url_name for page in PAGES.values()}
    missing = [n for n in url_names() if n not in in_table and n not in NOT_A_PAGE_OF_TYPED_TEXT]
    assert missing == [], "URLs with no page in PAGES and no reason"
    stale = [n for n in NOT_A_PAGE_OF_TYPED_TEXT if n not in url_names()]
    assert stale == [], "reasons for URLs that no longer exist"


# Admin lists that show no typed text, and why.
ADMIN_WITHOUT_TYPED_TEXT: dict[str, str] = {
    "auth_group": "the roles, made by a data migration",
    "otp_totp_totpdevice": "authenticators, named by the system",
    "otp_static_staticdevice": "recovery codes, named by the system",
    "care_followuptimepoint": "the follow-up schedule: its names are checked on the "
    "follow-up pages by tests/care/test_followup_pages.py",
}


def test_every_admin_list_is_a_page_in_the_table_or_shows_no_typed_text() -> None:
    in_table = {page.url_name for page in PAGES.values()}
    registered = {f"{m._meta.app_label}_{m._meta.model_name}" for m in admin.site._registry}
    missing = sorted(
        name
        for name in registered
        if f"admin:{name}_changelist" not in in_table and name not in ADMIN_WITHOUT_TYPED_TEXT
    )
    assert missing == [], "admin lists with no page in PAGES and no reason"


def test_the_tables_agree() -> None:
    unknown = {page for row in TYPED.values() for page in row.shown_on} - set(PAGES)
    assert unknown == set(), "pages in TYPED that PAGES does not list"
    unused = set(PAGES) - {page for row in TYPED.values() for page in row.shown_on}
    assert unused == set(), "pages that show no field in TYPED"
    payloads = [row.payload for row in TYPED.values()]
    assert len(set(payloads)) == len(payloads), "each field needs a payload of its own"
    assert all(escape(p) != p for p in payloads), "a payload must contain markup"
