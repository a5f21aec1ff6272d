"""Good Faith Estimates: who gets one, what it says (45 CFR 149.610(c)), that it
never changes once issued, what is owed by when, and the patient's receipt."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from care.models import (
    EstimateAcknowledgement,
    EstimateDisclaimer,
    EstimateDue,
    EstimateLine,
    GoodFaithEstimate,
)
from care.services import estimates, plans
from clinic.errors import ClinicError
from clinic.models import OutboundEmail
from intake.models import Intake
from tests.care.helpers import billing_provider, draft, latest_estimate, shared_plan
from tests.factories import case_to_book

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(physician, patient):
    billing_provider()
    physician.physician_profile.npi_number = "1245319599"
    physician.physician_profile.save()
    return case_to_book(physician, patient=patient)


def test_sharing_a_self_pay_patients_plan_issues_the_estimate(
    case, physician, patient, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        plan = shared_plan(
            case,
            physician,
            "bone-marrow-stem-cells",
            harvest_source="bone_marrow",
            sessions=2,
            weeks_between_sessions=6,
        )
    estimate = latest_estimate(case)
    intake = case.intake
    assert estimate.plan == plan
    # 149.610(c)(1)(i)-(ii): the patient's name and date of birth; the primary service.
    assert (estimate.patient_name, estimate.patient_date_of_birth) == (
        intake.legal_name,
        intake.date_of_birth,
    )
    assert estimate.primary_service.startswith("Bone-marrow concentrate (BMAC): Left knee")
    assert "2 sessions 6 weeks apart" in estimate.primary_service
    assert estimate.service_date is None  # nothing booked yet
    # (iii): itemised, with service and diagnosis codes and expected charges, and the total.
    lines = list(estimate.lines.values_list("service_code", "diagnosis_code", "quantity", "charge"))
    assert lines == [
        ("CPT 38220", "M17.12", 2, Decimal("3600.00")),
        ("", "M17.12", 2, Decimal("5000.00")),
        ("CPT 20611", "M17.12", 2, Decimal("1400.00")),
    ]
    assert estimate.total == Decimal("10000.00") == sum(line[3] for line in lines)
    # (v): the provider's name, NPI, TIN and location; the practitioner's NPI.
    assert (estimate.provider_npi, estimate.provider_tin) == ("1234567893", "12-3456789")
    assert estimate.provider_location.startswith("100 Main Street")
    assert estimate.practitioner_npi == "1245319599"
    # (vii)-(viii): the disclaimers, as the version in force, with its digest.
    current = EstimateDisclaimer.objects.get(is_current=True, language="en")
    assert estimate.disclaimer == current and estimate.disclaimer_sha256 == current.sha256
    assert "$400" in current.body and "not a contract" in current.body
    # The e-mail says a document is waiting, nothing about it.
    mail = OutboundEmail.objects.filter(to=patient.email).latest("created_at")
    assert "document" in mail.subject
    for health in ("knee", "BMAC", "marrow", "M17", "10,000", "estimate", "Estimate"):
        assert health not in mail.subject + mail.body


def test_an_insured_patient_gets_an_estimate_when_they_ask(case, physician, patient) -> None:
    Intake.objects.filter(pk=case.intake_id).update(payment=Intake.Payment.INSURANCE)
    case.refresh_from_db()
    shared_plan(case, physician, "prp")
    assert not GoodFaithEstimate.objects.exists()
    with pytest.raises(ClinicError, match="insurance"):
        estimates.estimate_issue(case=case, by=physician)
    due = estimates.estimate_request(case=case, patient=patient)
    assert due.reason == "requested"
    with pytest.raises(ClinicError, match="already asked"):
        estimates.estimate_request(case=case, patient=patient)
    issued = estimates.estimate_issue(case=case, by=physician)
    due.refresh_from_db()
    assert due.fulfilled_by == issued


def test_nothing_is_issued_without_the_clinics_billing_details(case, physician) -> None:
    from care.models import BillingProvider

    BillingProvider.objects.all().delete()
    plan = plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))
    with pytest.raises(ClinicError, match="billing details"):
        plans.plan_share(plan=plan, physician=physician)
    plan.refresh_from_db()
    assert not plan.is_shared  # the share was rolled back with the estimate


def test_who_issues(case, physician, other_physician, front_desk, patient) -> None:
    shared_plan(case, physician, "prp")
    for outsider in (other_physician, patient):
        with pytest.raises(ClinicError, match="Only the front desk"):
            estimates.estimate_issue(case=case, by=outsider)
    assert estimates.estimate_issue(case=case, by=front_desk).issued_by == front_desk


def test_an_issued_estimate_never_changes(case, physician) -> None:
    shared_plan(case, physician, "prp")
    estimate = latest_estimate(case)
    line = estimate.lines.get()
    for attempt in (
        lambda: GoodFaithEstimate.objects.filter(pk=estimate.pk).update(total=1),
        lambda: GoodFaithEstimate.objects.filter(pk=estimate.pk).delete(),
        lambda: EstimateLine.objects.filter(pk=line.pk).update(charge=1),
        lambda: EstimateLine.objects.filter(pk=line.pk).delete(),
        lambda: EstimateDisclaimer.objects.filter(pk=estimate.disclaimer_id).update(body="x"),
    ):
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    estimate.refresh_from_db()
    assert estimate.total == Decimal("1200.00")


def test_a_changed_plan_reissues_and_keeps_the_first_estimate(case, physician) -> None:
    first_plan = shared_plan(case, physician, "prp")
    first = latest_estimate(case)
    second_plan = plans.plan_revise(plan=first_plan, physician=physician, reason="Two sessions")
    plans.plan_draft_save(
        case=case, physician=physician, draft=draft("prp", sessions=2, weeks_between_sessions=4)
    )
    plans.plan_share(plan=second_plan, physician=physician)
    second = latest_estimate(case)
    assert second != first and second.plan == second_plan
    assert (first.total, second.total) == (Decimal("1200.00"), Decimal("2400.00"))
    first.refresh_from_db()
    assert first.plan == first_plan and first.lines.get().charge == Decimal("1200.00")


def test_a_new_disclaimer_version_applies_to_later_estimates_only(case, physician) -> None:
    plan = shared_plan(case, physician, "prp")
    first = latest_estimate(case)
    published = estimates.disclaimer_publish(version="2027-1", body="New wording.\n\nKeep a copy.")
    plans.plan_share(
        plan=plans.plan_revise(plan=plan, physician=physician, reason="Price agreed"),
        physician=physician,
    )
    assert latest_estimate(case).disclaimer == published
    first.refresh_from_db()
    assert first.disclaimer.version == "2026-1" and not first.disclaimer.is_current
    # A version is published per language: the Spanish text in force stays current,
    # but a translation of the older version is never issued in the new one's place.
    spanish = EstimateDisclaimer.objects.get(is_current=True, language="es")
    assert spanish.version == "2026-1"
    assert estimates.current_disclaimer(language="es") == published
    translated = estimates.disclaimer_publish(version="2027-1", body="Texto nuevo.", language="es")
    assert estimates.current_disclaimer(language="es-us") == translated
    with pytest.raises(ClinicError):
        estimates.disclaimer_publish(version="2027-1", body="Texto.", language="fr")
    with pytest.raises(IntegrityError):  # one text per version and language
        estimates.disclaimer_publish(version="2027-1", body="Other wording.")


def test_issuing_closes_what_is_due(case, physician, front_desk) -> None:
    shared_plan(case, physician, "prp")
    due = estimates.estimate_due_open(
        case=case,
        reason=EstimateDue.Reason.SCHEDULED,
        at=timezone.now(),
        service_on=timezone.localdate() + timedelta(days=30),
        by=front_desk,
    )
    assert list(EstimateDue.objects.open()) == [due]
    issued = estimates.estimate_issue(case=case, by=front_desk)
    assert not EstimateDue.objects.open().exists()
    due.refresh_from_db()
    assert due.fulfilled_by == issued


def test_the_patient_acknowledges_receipt_once(case, physician, patient, other_patient) -> None:
    shared_plan(case, physician, "prp")
    estimate = latest_estimate(case)
    with pytest.raises(ClinicError, match="not yours"):
        estimates.estimate_acknowledge(
            estimate=estimate, patient=other_patient, ip_address="203.0.113.5"
        )
    with pytest.raises(ClinicError, match="not yours"):
        estimates.estimate_acknowledge(estimate=estimate, patient=physician, ip_address=None)
    receipt = estimates.estimate_acknowledge(
        estimate=estimate, patient=patient, ip_address="203.0.113.5"
    )
    again = estimates.estimate_acknowledge(
        estimate=estimate, patient=patient, ip_address="198.51.100.1"
    )
    assert again == receipt and receipt.ip_address == "203.0.113.5"
    assert EstimateAcknowledgement.objects.count() == 1
    assert case.care_events.filter(kind="estimate_acknowledged").count() == 1
    with pytest.raises(DatabaseError), transaction.atomic():
        EstimateAcknowledgement.objects.filter(pk=receipt.pk).update(ip_address=None)
