"""Good Faith Estimates (No Surprises Act, 45 CFR 149.610) for self-pay patients:
when one is owed, issuing it from the current plan, and the patient's receipt.

An estimate is owed (an ``EstimateDue``) when the procedure is booked or the patient
asks; the deadline is computed in business days in the clinic's time zone
(``estimate_deadline``). Issuing copies everything the rule requires into the
estimate, closes every open due of the case, and e-mails the patient that a
document is waiting (the e-mail carries no health details).
"""

from dataclasses import dataclass
from datetime import date, datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from care.business_days import BusinessCalendar
from care.models import (
    BillingProvider,
    CareEvent,
    EstimateAcknowledgement,
    EstimateDisclaimer,
    EstimateDue,
    EstimateLine,
    GoodFaithEstimate,
    PlanItem,
    TreatmentPlan,
)
from clinic.errors import ClinicError
from clinic.i18n import in_language
from clinic.models import User
from clinic.policy import FRONT_DESK_ROLES, may_plan_care
from clinic.roles import Role, role_of
from clinic.services import email_queue, patient_language
from intake.models import Case, Consultation, Intake

# Who gets an estimate without asking: the intake's step 7 answer. A patient who
# has insurance but chooses not to use it gets one when they ask (``estimate_request``).
SELF_PAY = frozenset({Intake.Payment.SELF_PAY, Intake.Payment.UNSURE})


@dataclass(frozen=True)
class Deadline:
    due_on: date
    rule: str


def estimate_deadline(
    *,
    reason: str,
    opened_on: date,
    service_on: date | None,
    calendar: BusinessCalendar,
) -> Deadline:
    """When the estimate is due, by 45 CFR 149.610(b)(1)(ii):

    - on the patient's request: within 3 business days of it;
    - booked at least 10 business days ahead: within 3 business days of booking;
    - booked at least 3 business days ahead: within 1 business day of booking;
    - booked closer than that the rule sets no deadline; the clinic's own rule is
      the business day before the procedure (or the booking day itself, if that is
      later), the same as for an estimate re-issued after a change (149.610(b)(1)(v)).
    """
    if reason == EstimateDue.Reason.REQUESTED:
        return Deadline(calendar.add(opened_on, 3), "Within 3 business days of the request")
    if service_on is None:
        raise ClinicError("A booked procedure's estimate needs the procedure's date.")
    ahead = calendar.count_after(opened_on, service_on)
    if ahead >= 10:
        return Deadline(
            calendar.add(opened_on, 3),
            "Booked at least 10 business days ahead: within 3 business days of booking",
        )
    if ahead >= 3:
        return Deadline(
            calendar.add(opened_on, 1),
            "Booked at least 3 business days ahead: within 1 business day of booking",
        )
    return Deadline(
        max(opened_on, calendar.previous(service_on)),
        "Booked less than 3 business days ahead: by the business day before the procedure",
    )


def needs_estimate(case: Case) -> bool:
    """Self-pay (or not yet sure) at intake, or the patient asked for one."""
    return (
        case.intake.payment in SELF_PAY
        or case.estimates_due.filter(reason=EstimateDue.Reason.REQUESTED).exists()
    )


def _event(case: Case, kind: CareEvent.Kind, actor: User | None, note: str = "") -> None:
    CareEvent.objects.create(case=case, kind=kind, actor=actor, note=note)


def estimate_due_open(
    *, case: Case, reason: str, at: datetime, service_on: date | None = None, by: User | None
) -> EstimateDue:
    """Records that an estimate is owed, with its deadline (see ``estimate_deadline``)."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        opened_on = timezone.localdate(at)
        deadline = estimate_deadline(
            reason=reason,
            opened_on=opened_on,
            service_on=service_on,
            calendar=BusinessCalendar.load(),
        )
        due = EstimateDue.objects.create(
            case=locked,
            reason=reason,
            opened_at=at,
            opened_on=opened_on,
            service_on=service_on,
            due_on=deadline.due_on,
            rule=deadline.rule,
        )
        _event(
            locked,
            CareEvent.Kind.ESTIMATE_DUE,
            by,
            f"{EstimateDue.Reason(reason).label}; due {deadline.due_on:%a %d %b %Y} "
            f"({deadline.rule.lower()}).",
        )
    return due


def care_document_notify(*, patient: User, link: str) -> None:
    """Tells the patient, in their language, that a document (an estimate, their
    instructions) waits on their care page; the e-mail names no health detail."""
    with translation.override(patient_language(patient)):
        email_queue(
            to=patient.email,
            subject=gettext("A document from %(clinic)s is waiting for you")
            % {"clinic": settings.CLINIC_NAME},
            template="emails/care_document.txt",
            context={"name": patient.full_name, "link": link},
        )


def estimate_request(*, case: Case, patient: User, now: datetime | None = None) -> EstimateDue:
    """The patient asks for a Good Faith Estimate: due within 3 business days. One
    open request at a time."""
    if case.patient_id != patient.pk:
        raise ClinicError(gettext("This is not your case."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if locked.estimates_due.open().filter(reason=EstimateDue.Reason.REQUESTED).exists():
            raise ClinicError(
                gettext("You have already asked; the clinic will send your estimate.")
            )
        due = estimate_due_open(
            case=locked,
            reason=EstimateDue.Reason.REQUESTED,
            at=now or timezone.now(),
            by=patient,
        )
        _event(locked, CareEvent.Kind.ESTIMATE_REQUESTED, patient)
    return due


def _may_issue(user: User, case: Case) -> None:
    if role_of(user) in FRONT_DESK_ROLES or may_plan_care(user, case):
        return
    raise ClinicError("Only the front desk or the case's physician issues estimates.")


def _procedure(case: Case) -> Consultation | None:
    return (
        case.consultations.filter(
            state=Consultation.State.BOOKED, consultation_type__slug="injection-procedure"
        )
        .order_by("starts_at")
        .first()
    )


def estimate_issue(
    *, case: Case, by: User, separately_scheduled: str | None = None
) -> GoodFaithEstimate:
    """Issues the estimate from the case's current (latest shared) plan, with the
    booked procedure's date if there is one, and the services scheduled separately
    (``None``: as on the case's last estimate). Refuses when something the rule
    requires is missing (the clinic's NPI or tax id, the patient's date of birth)."""
    _may_issue(by, case)
    with transaction.atomic():
        locked = Case.objects.select_for_update().select_related("intake").get(pk=case.pk)
        if not needs_estimate(locked):
            raise ClinicError(
                "This patient said they will use insurance; issue an estimate when they ask."
            )
        plan = (
            TreatmentPlan.objects.shared()
            .filter(case=locked)
            .select_related("physician__physician_profile")
            .order_by("-version")
            .first()
        )
        if plan is None:
            raise ClinicError("The physician has not shared a plan yet.")
        provider = BillingProvider.objects.filter(is_current=True).first()
        if provider is None:
            raise ClinicError(
                "The clinic's billing details (NPI, tax id, location) are not set in the admin."
            )
        # Issued in the language of its disclaimers (the patient's when the clinic has
        # that text of the current version): the catalog's descriptions and the
        # primary service in it too.
        disclaimer = current_disclaimer(language=patient_language(locked.patient))
        language = disclaimer.language
        intake = locked.intake
        if intake.date_of_birth is None:
            raise ClinicError("The patient's date of birth is missing.")
        if separately_scheduled is None:
            last = GoodFaithEstimate.objects.filter(case=locked).order_by("-issued_at").first()
            separately_scheduled = last.separately_scheduled if last else ""
        items = list(plan.items.select_related("option", "billable_item"))
        procedure = _procedure(locked)
        profile = getattr(plan.physician, "physician_profile", None)
        with translation.override(language):
            primary = _primary_service(plan, items)
            descriptions = [_line_description(item) for item in items]
        estimate = GoodFaithEstimate.objects.create(
            case=locked,
            plan=plan,
            issued_at=timezone.now(),
            issued_by=by,
            patient_name=intake.legal_name or locked.patient.full_name,
            patient_date_of_birth=intake.date_of_birth,
            primary_service=primary[:300],
            service_date=timezone.localdate(procedure.starts_at) if procedure else None,
            diagnosis_codes=plan.icd10_code,
            total=sum((item.charge * plan.sessions for item in items), start=0),
            provider_name=provider.name,
            provider_npi=provider.npi_number,
            provider_tin=provider.tin,
            provider_location=provider.location,
            practitioner_name=profile.display_name if profile else plan.physician.full_name,
            practitioner_npi=profile.npi_number if profile else "",
            separately_scheduled=separately_scheduled.strip(),
            disclaimer=disclaimer,
            disclaimer_sha256=disclaimer.sha256,
            language=language,
        )
        EstimateLine.objects.bulk_create(
            EstimateLine(
                estimate=estimate,
                position=position,
                description=description,
                service_code=item.service_code,
                diagnosis_code=plan.icd10_code,
                quantity=item.quantity * plan.sessions,
                charge=item.charge * plan.sessions,
            )
            for position, (item, description) in enumerate(
                zip(items, descriptions, strict=True), start=1
            )
        )
        locked.estimates_due.open().update(fulfilled_by=estimate)
        _event(
            locked,
            CareEvent.Kind.ESTIMATE_ISSUED,
            by,
            f"From plan version {plan.version}; total ${estimate.total:,.2f}.",
        )
        link = settings.SITE_URL + reverse("care:patient_care", args=[locked.public_id])
        care_document_notify(patient=locked.patient, link=link)
    return estimate


def current_disclaimer(*, language: str) -> EstimateDisclaimer:
    """The disclaimers an estimate is issued with now: ``language``'s text when the
    clinic has published it for the current (English) version, else the English, so
    a translation of an older version is never printed in its place (as with the
    consent, ``intake.services.current_consent``)."""
    language = language.split("-")[0]
    current = {d.language: d for d in EstimateDisclaimer.objects.filter(is_current=True)}
    english = current.get("en")
    if english is None:
        raise ClinicError("No estimate disclaimers are published.")
    translated = current.get(language)
    if translated is not None and translated.version == english.version:
        return translated
    return english


def _primary_service(plan: TreatmentPlan, items: list[PlanItem]) -> str:
    """ "Platelet-rich plasma (PRP): Left knee, 3 sessions 4 weeks apart", in the
    active language."""
    options = sorted({item.option for item in items}, key=lambda o: o.ladder_step)
    names = gettext(" and ").join(o.shown_name for o in options)
    primary = gettext("%(options)s: %(target)s") % {"options": names, "target": plan.target}
    if plan.sessions > 1:
        primary += gettext(", %(sessions)s sessions %(weeks)s weeks apart") % {
            "sessions": plan.sessions,
            "weeks": plan.weeks_between_sessions,
        }
    return primary


def _line_description(item: PlanItem) -> str:
    """The catalog's description in the active language, when the plan's line still
    says what the catalog says; a description the physician rewrote stays as written."""
    catalog = item.billable_item
    if catalog is not None and item.description == catalog.description:
        return in_language(catalog, "description")
    return item.description


def estimate_acknowledge(
    *, estimate: GoodFaithEstimate, patient: User, ip_address: str | None
) -> EstimateAcknowledgement:
    """The patient confirms they received the estimate (once; a second click is a
    no-op that returns the first receipt)."""
    if role_of(patient) != Role.PATIENT or estimate.case.patient_id != patient.pk:
        raise ClinicError(gettext("This estimate is not yours."))
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=estimate.case_id)
        existing = EstimateAcknowledgement.objects.filter(estimate=estimate).first()
        if existing is not None:
            return existing
        receipt = EstimateAcknowledgement.objects.create(
            estimate=estimate, patient=patient, at=timezone.now(), ip_address=ip_address
        )
        _event(locked, CareEvent.Kind.ESTIMATE_ACKNOWLEDGED, patient)
    return receipt


def disclaimer_publish(*, version: str, body: str, language: str = "en") -> EstimateDisclaimer:
    """A new version of the disclaimers in one language becomes the current one in
    that language; earlier estimates keep pointing at the text they were issued with."""
    body = body.strip().replace("\r\n", "\n")
    if not body:
        raise ClinicError("The disclaimers cannot be empty.")
    if language not in dict(settings.LANGUAGES):
        raise ClinicError("The disclaimers' language is not one the product speaks.")
    with transaction.atomic():
        EstimateDisclaimer.objects.select_for_update().filter(
            is_current=True, language=language
        ).update(is_current=False)
        return EstimateDisclaimer.objects.create(
            version=version.strip(),
            language=language,
            body=body,
            sha256=EstimateDisclaimer.digest(body),
            is_current=True,
        )
