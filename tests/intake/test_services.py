"""The intake's rules, through its services (on PostgreSQL in CI)."""

import threading
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from clinic.errors import ClinicError
from intake import cases, services
from intake.models import Case, CaseEvent, CaseFlag, ConsentDocument, Instrument, Intake
from intake.scoring import instrument_score
from tests.factories import ABOUT_YOU, UserFactory, intake_ready_to_sign, signature_for
from treatments.models import Contraindication

pytestmark = pytest.mark.django_db


def test_a_patient_has_one_draft_at_a_time(patient):
    first = services.intake_start(patient=patient)
    assert services.intake_start(patient=patient) == first
    assert Intake.objects.filter(patient=patient).count() == 1


def test_a_first_intake_starts_with_the_account_name(patient):
    assert services.intake_start(patient=patient).legal_name == patient.full_name


def test_a_new_intake_is_prefilled_from_the_last_one(patient):
    first = intake_ready_to_sign(patient, city="Trenton")
    services.intake_submit(intake=first, signature=signature_for(first))
    second = services.intake_start(patient=patient)
    assert second != first
    assert (second.city, second.date_of_birth, second.current_medicines) == (
        "Trenton",
        ABOUT_YOU["date_of_birth"],
        "none",
    )
    assert second.preferred_days == ["mon"]
    # The complaint and the questionnaires are asked afresh.
    assert second.completed_steps == []
    assert not second.complaints.exists()


def test_each_saved_step_is_recorded_and_resume_goes_to_the_first_missing_one(patient):
    intake = services.intake_start(patient=patient)
    assert intake.next_step == 1
    services.intake_about_save(intake=intake, data={**ABOUT_YOU, "legal_name": "Pat Patient"})
    intake.refresh_from_db()
    assert intake.completed_steps == [1]
    assert intake.next_step == 2
    assert intake.bmi == Decimal("25.1")


def test_typed_answers_are_kept_until_the_step_is_saved(patient):
    intake = services.intake_start(patient=patient)
    services.intake_keep_pending(intake=intake, step=1, answers={"city": ["Trent"]})
    intake.refresh_from_db()
    assert intake.pending_answers == {"1": {"city": ["Trent"]}}
    services.intake_about_save(intake=intake, data={**ABOUT_YOU, "legal_name": "Pat Patient"})
    intake.refresh_from_db()
    assert intake.pending_answers == {}


def test_the_function_questionnaires_are_scored_on_the_server(patient):
    intake = services.intake_start(patient=patient)
    percent = Instrument.objects.get(slug="percent-of-normal")
    adl = Instrument.objects.get(slug="daily-activities")
    # Eight activities, each 0 (no difficulty) to 4 (unable): half the worst total.
    adl_answers = dict.fromkeys(range(1, 9), 2)
    services.intake_function_save(intake=intake, answers={percent.pk: {1: 40}, adl.pk: adl_answers})
    scores = {r.instrument.slug: r.score for r in intake.responses.select_related("instrument")}
    assert scores == {"percent-of-normal": Decimal("40.0"), "daily-activities": Decimal("50.0")}


def test_the_pain_rating_is_not_asked_again_in_the_function_step():
    """The pain step rates each area now and at its worst; the 0-10 average rating
    stays for follow-ups (and still scores) but is not part of the intake."""
    nrs = Instrument.objects.get(slug="pain-nrs")
    assert not nrs.in_intake
    assert instrument_score(instrument=nrs, answers={1: 7}) == Decimal("7.0")


def test_an_incomplete_questionnaire_is_refused(patient):
    intake = services.intake_start(patient=patient)
    adl = Instrument.objects.get(slug="daily-activities")
    answers = {i.pk: {1: 0} for i in Instrument.objects.filter(in_intake=True)}
    answers[adl.pk] = {1: 0, 2: 0}
    with pytest.raises(ClinicError, match="every question"):
        services.intake_function_save(intake=intake, answers=answers)
    assert not intake.responses.exists()


def test_the_health_step_asks_one_question_per_active_rule(patient):
    Contraindication.objects.filter(slug="pregnancy").update(is_active=False)
    slugs = [rule.slug for rule in services.screening_questions()]
    assert "pregnancy" not in slugs
    assert len(slugs) == Contraindication.objects.filter(is_active=True).count()


def test_a_new_rule_in_the_catalog_reopens_the_health_step(patient):
    intake = intake_ready_to_sign(patient)
    assert services.missing_steps(intake) == []
    Contraindication.objects.create(
        slug="new-rule",
        name="New rule",
        screening_question="New?",
        severity="caution",
        source="test",
    )
    assert services.missing_steps(intake) == [5]


def test_submitting_creates_a_case_an_event_and_a_confirmation(
    patient, django_capture_on_commit_callbacks
):
    intake = intake_ready_to_sign(patient)
    with django_capture_on_commit_callbacks(execute=True):
        case = services.intake_submit(intake=intake, signature=signature_for(intake))
    intake.refresh_from_db()
    assert intake.status == Intake.Status.SUBMITTED
    assert case.state == Case.State.SUBMITTED
    assert case.patient_status == "Received"
    assert case.reference.startswith("RM-") and len(case.reference) == 12
    event = CaseEvent.objects.get(case=case, kind=CaseEvent.Kind.SUBMITTED)
    assert (event.kind, event.actor, event.to_state) == (
        CaseEvent.Kind.SUBMITTED,
        patient,
        "submitted",
    )
    assert len(mail.outbox) == 1
    assert case.reference in mail.outbox[0].subject
    assert case.reference in mail.outbox[0].body
    assert str(intake.public_id) in mail.outbox[0].body


def test_the_signature_records_time_address_and_the_consent_text(patient):
    intake = intake_ready_to_sign(patient)
    services.intake_submit(intake=intake, signature=signature_for(intake, name="  pat   PATIENT "))
    intake.refresh_from_db()
    consent = ConsentDocument.objects.get(is_current=True, language="en")
    assert intake.signed_ip == "203.0.113.9"
    assert intake.signed_at is not None
    assert intake.consent == consent
    assert intake.consent_sha256 == ConsentDocument.digest(consent.body) == consent.sha256


def test_submitting_twice_gives_the_same_case_and_one_e_mail(
    patient, django_capture_on_commit_callbacks
):
    intake = intake_ready_to_sign(patient)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.intake_submit(intake=intake, signature=signature_for(intake))
        second = services.intake_submit(intake=intake, signature=signature_for(intake))
    assert first == second
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.SUBMITTED).count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.django_db(transaction=True)
def test_parallel_submits_of_one_intake_create_one_case():
    patient = UserFactory.create(role="patient", full_name="Pat Patient")
    intake = intake_ready_to_sign(patient)
    barrier = threading.Barrier(6)
    cases: list[int] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            cases.append(services.intake_submit(intake=intake, signature=signature_for(intake)).pk)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=submit) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(cases)) == 1
    assert Case.objects.count() == 1
    assert CaseEvent.objects.filter(kind=CaseEvent.Kind.SUBMITTED).count() == 1


def test_a_submitted_intake_is_read_only(patient):
    intake = intake_ready_to_sign(patient)
    services.intake_submit(intake=intake, signature=signature_for(intake))
    with pytest.raises(ClinicError, match="submitted"):
        services.intake_about_save(intake=intake, data={**ABOUT_YOU, "legal_name": "Someone Else"})
    with pytest.raises(ClinicError, match="submitted"):
        services.intake_keep_pending(intake=intake, step=1, answers={})


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"name": "Somebody Else"}, "full legal name"),
        ({"acknowledged_cost": False}, "acknowledgement"),
        ({"consent_version": "1999-01"}, "updated"),
    ],
)
def test_a_signature_that_does_not_hold_is_refused(patient, overrides, message):
    intake = intake_ready_to_sign(patient)
    with pytest.raises(ClinicError, match=message):
        services.intake_submit(intake=intake, signature=signature_for(intake, **overrides))
    assert not Case.objects.exists()


def test_an_unconfirmed_e_mail_address_cannot_submit(patient):
    intake = intake_ready_to_sign(patient)
    patient.email_verified_at = None
    patient.save()
    intake.refresh_from_db()
    with pytest.raises(ClinicError, match="confirm your e-mail"):
        services.intake_submit(intake=intake, signature=signature_for(intake))


def test_an_incomplete_intake_cannot_be_submitted(patient):
    patient.email_verified_at = timezone.now()
    patient.save()
    intake = services.intake_start(patient=patient)
    services.intake_about_save(intake=intake, data={**ABOUT_YOU, "legal_name": patient.full_name})
    with pytest.raises(ClinicError, match="step 2, 3, 4, 5, 6, 7"):
        services.intake_submit(intake=intake, signature=signature_for(intake))


def test_a_patient_under_18_needs_a_guardian_signature(patient):
    today = timezone.localdate()
    intake = intake_ready_to_sign(patient, date_of_birth=date(today.year - 15, 1, 1))
    with pytest.raises(ClinicError, match="guardian"):
        services.intake_submit(intake=intake, signature=signature_for(intake))
    with pytest.raises(ClinicError, match="guardian's signature"):
        services.intake_submit(
            intake=intake,
            signature=signature_for(
                intake,
                guardian_name="Gail Guardian",
                guardian_relationship="Mother",
                guardian_signature_name="G",
            ),
        )
    services.intake_submit(
        intake=intake,
        signature=signature_for(
            intake,
            guardian_name="Gail Guardian",
            guardian_relationship="Mother",
            guardian_signature_name="gail guardian",
        ),
    )
    intake.refresh_from_db()
    assert (intake.guardian_name, intake.guardian_relationship) == ("Gail Guardian", "Mother")


def test_screening_answers_become_flags_for_the_physician(patient):
    intake = intake_ready_to_sign(
        patient, screening={"anticoagulant": "yes", "infection": "yes", "pregnancy": "unsure"}
    )
    case = services.intake_submit(intake=intake, signature=signature_for(intake))
    flags = {flag.contraindication.slug: flag for flag in CaseFlag.objects.filter(case=case)}
    assert set(flags) == {"anticoagulant", "infection", "pregnancy"}
    infection = Contraindication.objects.get(slug="infection")
    assert flags["infection"].severity == infection.severity
    assert flags["infection"].rule == infection.name
    assert set(flags["infection"].options.all()) == set(infection.options.all())
    # 'Not sure' to a hard stop stays a hard stop until the physician confirms.
    assert (flags["pregnancy"].severity, flags["pregnancy"].patient_answer) == (
        "hard_stop",
        "unsure",
    )


def test_no_screening_answer_no_flag(patient):
    intake = intake_ready_to_sign(patient)
    case = services.intake_submit(intake=intake, signature=signature_for(intake))
    assert not case.flags.exists()


def test_a_patient_answers_a_physicians_request_and_the_case_returns_to_review(patient, physician):
    intake = intake_ready_to_sign(patient)
    case = services.intake_submit(intake=intake, signature=signature_for(intake))
    asked = cases.case_request_information(
        case=case, physician=physician, question="When was the MRI?"
    )
    case.refresh_from_db()
    assert case.patient_status == "More information needed"
    cases.information_request_answer(request=asked, patient=patient, answer="March 2024")
    case.refresh_from_db()
    assert case.state == Case.State.UNDER_REVIEW
    assert list(case.events.values_list("kind", flat=True)) == [
        "submitted",
        "info_requested",
        "info_provided",
    ]
    with pytest.raises(ClinicError, match="already answered"):
        cases.information_request_answer(request=asked, patient=patient, answer="again")


def test_only_the_patient_can_answer_their_request(patient, other_patient, physician):
    intake = intake_ready_to_sign(patient)
    case = services.intake_submit(intake=intake, signature=signature_for(intake))
    asked = cases.case_request_information(case=case, physician=physician, question="Which knee?")
    with pytest.raises(ClinicError, match="not yours"):
        cases.information_request_answer(request=asked, patient=other_patient, answer="Left")


def test_a_new_consent_version_becomes_current_and_old_signatures_keep_theirs(patient):
    first = intake_ready_to_sign(patient)
    services.intake_submit(intake=first, signature=signature_for(first))
    old = ConsentDocument.objects.get(is_current=True, language="en")
    new = services.consent_publish(version="2027-01", title="Consent", body="New text.")
    assert ConsentDocument.objects.get(is_current=True, language="en") == new
    assert new.sha256 == ConsentDocument.digest("New text.")
    first.refresh_from_db()
    assert (first.consent, first.consent_sha256) == (old, old.sha256)
    with pytest.raises(ClinicError, match="already exists"):
        services.consent_publish(version="2027-01", title="Again", body="x")


def test_kept_answers_drop_nul_characters_and_are_bounded(patient):
    intake = services.intake_start(patient=patient)
    services.intake_keep_pending(
        intake=intake, step=1, answers={"city": ["Tre\x00nton"], "goals": ["x" * 10_000]}
    )
    intake.refresh_from_db()
    assert intake.pending_answers["1"]["city"] == ["Trenton"]
    assert len(intake.pending_answers["1"]["goals"][0]) == services.PENDING_VALUE_MAX
