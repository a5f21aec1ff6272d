"""The intake side of the clinical safety review (issue 18): a red flag the patient
is not sure about shows the advice; a hard stop the patient is not sure about stays a
hard stop until the physician records a reason; an urgent case in the pool says so;
the new consent version; the patient's pages show each option's regulatory note and
this clinic's price, promise nothing, and no page gives a weight-based dose."""

import importlib

import pytest
from django.apps import apps as django_apps
from django.urls import reverse

from clinic.errors import ClinicError
from clinic.models import OutboundEmail
from clinic.roles import Role
from intake import cases, services
from intake.models import CaseFlag, Complaint, ConsentDocument, ReviewDecision
from intake.selectors import red_flag_advice
from tests.factories import UserFactory, intake_ready_to_sign, signature_for, submitted_case
from treatments.models import Condition, Priority, RedFlag, TreatmentOption


def new_patient():
    return UserFactory.create(role=Role.PATIENT)


def candidate(*slugs: str, override_reason: str = "") -> cases.CandidateDecision:
    return cases.CandidateDecision(
        options=list(TreatmentOption.objects.filter(slug__in=slugs)),
        consultation_type=ReviewDecision.ConsultationType.NEW,
        consultation_mode=ReviewDecision.ConsultationMode.IN_PERSON,
        urgency=ReviewDecision.Urgency.ROUTINE,
        override_reason=override_reason,
    )


@pytest.mark.parametrize("answer", ["yes", "unsure"])
def test_a_red_flag_answered_yes_or_not_sure_shows_the_patient_the_advice(patient, answer):
    intake = intake_ready_to_sign(patient, symptoms={"hot-swollen-joint-with-fever": answer})
    flag = RedFlag.objects.get(slug="hot-swollen-joint-with-fever")
    assert red_flag_advice(intake) == [flag.patient_advice]


def test_a_case_with_red_flag_advice_does_not_tell_the_patient_to_wait_for_review(
    login, patient, physician
):
    """The advice says to go to an emergency department now; the same page must not
    also say a physician will look at it within two business days."""
    flagged = submitted_case(patient, symptoms={"hot-swollen-joint-with-fever": "yes"})
    plain = submitted_case(UserFactory.create(role=Role.PATIENT))
    page = (
        login(patient)
        .get(reverse("intake:detail", kwargs={"public_id": flagged.intake.public_id}))
        .content.decode()
    )
    assert "emergency department now" in page
    assert "Do not wait for our review" in page
    assert "usually within two business days" not in page
    other = (
        login(plain.patient)
        .get(reverse("intake:detail", kwargs={"public_id": plain.intake.public_id}))
        .content.decode()
    )
    assert "usually within two business days" in other
    assert "Do not wait for our review" not in other


def test_no_to_every_red_flag_shows_no_advice(patient):
    assert red_flag_advice(intake_ready_to_sign(patient)) == []


def test_not_sure_about_a_stroke_sign_shows_call_911_on_the_next_step(login, patient):
    stroke = RedFlag.objects.get(slug="sudden-weakness-face-arm-leg-speech")
    intake = intake_ready_to_sign(patient, symptoms={stroke.slug: "unsure"})
    page = login(patient).get(
        reverse("intake:step", kwargs={"public_id": intake.public_id, "step": 6})
    )
    assert "Call 911 now" in page.content.decode()


@pytest.mark.parametrize("slug", ["pregnancy", "infection"])
def test_not_sure_to_a_hard_stop_stays_a_hard_stop_until_the_physician_records_why(
    patient, physician, slug
):
    case = submitted_case(patient, screening={slug: "unsure"})
    flag = CaseFlag.objects.get(case=case, contraindication__slug=slug)
    assert (flag.severity, flag.patient_answer) == ("hard_stop", "unsure")
    with pytest.raises(ClinicError, match="Hard stop"):
        cases.case_mark_candidate(case=case, physician=physician, decision=candidate("prp"))
    decision = cases.case_mark_candidate(
        case=case,
        physician=physician,
        decision=candidate("prp", override_reason="Asked by phone: not pregnant, no infection."),
    )
    assert decision.override_reason == "Asked by phone: not pregnant, no infection."
    assert "Hard stop overridden" in case.events.last().note


def test_an_urgent_case_in_the_pool_sends_an_e_mail_marked_urgent(clinic_admin):
    case = submitted_case(new_patient(), symptoms={"saddle-numbness-bladder-bowel": "yes"})
    assert case.assigned_to is None and case.priority == Priority.URGENT
    email = OutboundEmail.objects.get(to=clinic_admin.email, subject__contains="unassigned pool")
    assert email.subject.startswith("URGENT: ")
    assert "URGENT" in email.body
    # No health details: neither the symptom nor the priority's reason.
    assert "bladder" not in email.body.lower() and "numbness" not in email.body.lower()
    assert case.priority_reason not in email.body


def test_a_routine_case_in_the_pool_is_not_marked_urgent(clinic_admin):
    submitted_case(new_patient())
    email = OutboundEmail.objects.get(to=clinic_admin.email, subject__contains="unassigned pool")
    assert "URGENT" not in email.subject and "URGENT" not in email.body


CONSENT_RISKS = [
    "injury to a nerve or a blood vessel",
    "hematoma",
    "rarely nerve pain",
    "a collection of fluid",
    "a change in the shape of the skin",
    "passing on a disease from the donor",
    "PRP and dextrose injections are off-label uses",
    "this clinic's prices",
]


def test_the_current_consent_names_the_added_risks(db):
    consent = ConsentDocument.objects.get(is_current=True, language="en")
    assert consent.version == "2026-12"
    assert consent.sha256 == ConsentDocument.digest(consent.body)
    for risk in CONSENT_RISKS:
        assert risk in consent.body, risk


def test_publishing_2026_12_keeps_earlier_signatures_with_their_own_version_and_hash(patient):
    migration = importlib.import_module("intake.migrations.0009_consent_2026_12")
    earlier = ConsentDocument.objects.get(version="2026-11")
    earlier_text, earlier_hash = earlier.body, earlier.sha256
    # As before the migration: 2026-11 is the text patients sign.
    ConsentDocument.objects.filter(version="2026-12").delete()
    ConsentDocument.objects.filter(pk=earlier.pk).update(is_current=True)
    intake = intake_ready_to_sign(patient)
    services.intake_submit(intake=intake, signature=signature_for(intake))

    migration.publish(django_apps, None)

    current = ConsentDocument.objects.get(is_current=True, language="en")
    assert current.version == "2026-12"
    intake.refresh_from_db()
    assert intake.consent.version == "2026-11"
    assert intake.consent_sha256 == earlier_hash == ConsentDocument.digest(earlier_text)
    earlier.refresh_from_db()
    assert (earlier.body, earlier.sha256, earlier.is_current) == (earlier_text, earlier_hash, False)
    migration.publish(django_apps, None)  # running it again changes nothing
    assert ConsentDocument.objects.filter(version="2026-12").count() == 1


PROMISES = ["Relief for", "without surgery", "best for", "many more", "dosed by body weight"]


def test_the_home_page_shows_each_option_with_its_regulatory_note_and_this_clinics_price(
    db, client
):
    page = client.get("/").content.decode()
    for option in TreatmentOption.objects.offered():
        assert option.regulatory_note.replace("'", "&#x27;") in page, option.slug
    assert "This clinic's price" in page
    assert "Injection treatments for" in page
    for promise in PROMISES:
        assert promise not in page, promise


def test_the_treatment_step_shows_each_options_regulatory_note_and_price(login, patient):
    intake = intake_ready_to_sign(patient)
    page = (
        login(patient)
        .get(reverse("intake:step", kwargs={"public_id": intake.public_id, "step": 7}))
        .content.decode()
    )
    for option in TreatmentOption.objects.offered():
        assert option.regulatory_note.replace("'", "&#x27;") in page, option.slug
    assert "This clinic's price" in page
    for promise in PROMISES:
        assert promise not in page, promise


def test_the_about_step_never_says_treatments_are_dosed_by_weight(login, patient):
    intake = services.intake_start(patient=patient)
    page = (
        login(patient)
        .get(reverse("intake:step", kwargs={"public_id": intake.public_id, "step": 1}))
        .content.decode()
    )
    assert "weight" in page.lower()
    assert "dosed" not in page and "per kg" not in page


def test_the_physicians_case_page_gives_no_weight_based_dose(login, physician, patient):
    case = submitted_case(patient)
    page = login(physician).get(reverse("review:case", kwargs={"public_id": case.public_id}))
    text = page.content.decode()
    assert "per kg" not in text and "million cells" not in text


@pytest.mark.parametrize(
    ("slug", "side", "shown"),
    [
        ("knee-osteoarthritis", "left", "ICD-10-CM M17.12"),
        ("shoulder-osteoarthritis", "both", "ICD-10-CM M19.01- (complete when charting)"),
    ],
)
def test_the_case_page_gives_the_complaints_billable_code(
    login, physician, patient, slug, side, shown
):
    case = submitted_case(patient)
    Complaint.objects.filter(intake=case.intake).update(
        condition=Condition.objects.get(slug=slug), side=side
    )
    page = login(physician).get(reverse("review:case", kwargs={"public_id": case.public_id}))
    assert shown in page.content.decode()


def test_the_patient_reads_each_recommended_options_regulatory_note_and_price(
    login, patient, physician
):
    case = submitted_case(patient)
    cases.case_mark_candidate(
        case=case, physician=physician, decision=candidate("prp", "allograft")
    )
    page = login(patient).get(reverse("intake:detail", kwargs={"public_id": case.intake.public_id}))
    text = page.content.decode()
    for option in TreatmentOption.objects.filter(slug__in=["prp", "allograft"]):
        assert option.regulatory_note.replace("'", "&#x27;") in text
    assert "This clinic's price: $600–$1,800 per injection" in text
