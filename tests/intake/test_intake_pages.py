"""The intake's pages: every step through the patient's browser (the Django client)."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from intake import cases, services
from intake.models import Case, Intake
from tests.conftest import ClinicClient
from tests.factories import intake_ready_to_sign, signature_for
from tests.intake.step_posts import (
    STEP_POSTS,
    about_post,
    consent_post,
    goals_post,
    health_post,
    pain_post,
    tried_post,
)
from treatments.models import BodyRegion, Condition, TreatmentOption

pytestmark = pytest.mark.django_db


def step_url(intake: Intake, step: int) -> str:
    return reverse("intake:step", kwargs={"public_id": intake.public_id, "step": step})


@pytest.fixture
def verified_patient(patient):
    patient.email_verified_at = timezone.now()
    patient.save()
    return patient


def test_a_patient_fills_every_step_and_submits(
    login, verified_patient, django_capture_on_commit_callbacks
):
    client = login(verified_patient)
    response = client.post(reverse("intake:new"))
    intake = Intake.objects.get(patient=verified_patient)
    assert response["Location"] == step_url(intake, 1)
    for step, post in STEP_POSTS.items():
        page = client.get(step_url(intake, step))
        assert page.status_code == 200
        assert f"Step {step} of 8" in page.content.decode()
        response = client.post(step_url(intake, step), post())
        assert response.status_code == 302, (step, response.content.decode()[:3000])
        assert response["Location"] == step_url(intake, step + 1)
    review = client.get(step_url(intake, 8))
    assert "Sign and submit" in review.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(step_url(intake, 8), consent_post())
    assert response["Location"] == reverse("intake:detail", kwargs={"public_id": intake.public_id})
    case = Case.objects.get(intake=intake)
    assert case.reference in mail.outbox[-1].subject
    detail = client.get(response["Location"])
    assert "Received" in detail.content.decode()


def test_an_error_shows_next_to_the_field_and_keeps_what_was_typed(login, patient):
    client = login(patient)
    client.post(reverse("intake:new"))
    intake = Intake.objects.get(patient=patient)
    response = client.post(step_url(intake, 1), about_post(phone="12", date_of_birth="2999-01-01"))
    page = response.content.decode()
    assert response.status_code == 200
    assert "Please check 2 answers" in page
    assert 'value="1 Main Street"' in page
    assert "Enter a phone number we can call" in page
    assert "must be today or earlier" in page


def test_a_complaint_formset_error_is_summarised(login, patient):
    client = login(patient)
    client.post(reverse("intake:new"))
    intake = Intake.objects.get(patient=patient)
    response = client.post(step_url(intake, 2), pain_post({"body_region": "", "side": "left"}))
    assert response.status_code == 200
    assert "Where is the pain?: This field is required." in response.content.decode()


# --- Who may open the intake's pages -------------------------------------------------


@pytest.fixture
def draft(login, patient) -> Intake:
    login(patient).post(reverse("intake:new"))
    return Intake.objects.get(patient=patient)


def test_visitors_are_sent_to_log_in(client, draft):
    client.logout()
    for url in (
        reverse("intake:home"),
        step_url(draft, 1),
        reverse("intake:detail", args=[draft.public_id]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_other_roles_get_403(client, draft, physician, front_desk, clinic_admin):
    for person in (physician, front_desk, clinic_admin):
        client.force_login(person)
        assert client.get(step_url(draft, 1)).status_code == 403


def test_another_patients_intake_is_a_404(client, draft, other_patient):
    client.force_login(other_patient)
    assert client.get(step_url(draft, 1)).status_code == 404
    assert client.post(step_url(draft, 1), about_post()).status_code == 404
    assert client.get(reverse("intake:detail", args=[draft.public_id])).status_code == 404
    draft.refresh_from_db()
    assert draft.completed_steps == []


def test_wrong_methods_get_405(client, draft, patient):
    client.force_login(patient)
    assert client.get(reverse("intake:new")).status_code == 405
    assert client.put(step_url(draft, 1)).status_code == 405
    assert client.post(reverse("intake:detail", args=[draft.public_id])).status_code == 405


def test_a_step_that_does_not_exist_is_a_404(client, draft, patient):
    client.force_login(patient)
    assert (
        client.get(
            reverse("intake:step", kwargs={"public_id": draft.public_id, "step": 9})
        ).status_code
        == 404
    )


# --- Saving, going back, resuming --------------------------------------------------------


def test_going_back_keeps_what_was_typed_even_when_it_is_not_valid_yet(client, draft, patient):
    client.force_login(patient)
    response = client.post(
        step_url(draft, 2), {**pain_post({"side": "left", "pain_now": "4"}), "action": "back"}
    )
    assert response["Location"] == step_url(draft, 1)
    page = client.get(step_url(draft, 2)).content.decode()
    assert re.search(r'<input[^>]*name="complaint-0-side" value="left"[^>]*checked>', page)
    assert re.search(r'<input[^>]*name="complaint-0-pain_now" value="4"[^>]*checked>', page)


def test_save_and_finish_later_then_resume_on_another_device(client, draft, patient):
    client.force_login(patient)
    client.post(step_url(draft, 1), about_post())
    response = client.post(step_url(draft, 2), {**pain_post(), "action": "exit"})
    assert response["Location"] == reverse("intake:home")
    client.logout()

    phone = ClinicClient()
    phone.force_login(patient)
    home = phone.get(reverse("intake:home")).content.decode()
    assert "Continue at step 3 of 8" in home
    assert step_url(draft, 3) in home
    page = phone.get(step_url(draft, 1)).content.decode()
    assert 'value="Springfield"' in page


def test_editing_from_the_review_page_returns_to_it(client, draft, patient):
    client.force_login(patient)
    response = client.post(step_url(draft, 1), {**about_post(), "review": "1"})
    assert response["Location"] == step_url(draft, 8)


def test_imperial_units_are_stored_metric(client, draft, patient):
    client.force_login(patient)
    post = about_post(
        unit_system="imperial",
        height_cm="",
        weight_kg="",
        height_ft="5",
        height_in="7",
        weight_lb="160",
    )
    assert client.post(step_url(draft, 1), post).status_code == 302
    draft.refresh_from_db()
    assert (draft.height_cm, str(draft.weight_kg)) == (Decimal("170.2"), "72.6")
    page = client.get(step_url(draft, 1)).content.decode()
    assert 'name="height_ft" value="5"' in page


@pytest.mark.parametrize(
    ("post", "message"),
    [
        (about_post(height_cm="17"), "greater than or equal to 50"),
        (about_post(weight_kg="900"), "less than or equal to 350"),
        (
            about_post(unit_system="imperial", height_ft="9", weight_lb="150"),
            "less than or equal to 8",
        ),
        (
            about_post(unit_system="imperial", height_ft="8", height_in="11", weight_lb="150"),
            "between 1 ft 8 in and 8 ft 2 in",
        ),
        (
            about_post(unit_system="imperial", height_ft="5", weight_lb="20"),
            "greater than or equal to 44",
        ),
        (about_post(date_of_birth="1850-01-01"), "more than 120 years ago"),
        (about_post(emergency_contact_phone="555"), "Enter a phone number we can call"),
    ],
)
def test_implausible_answers_get_a_clear_message(client, draft, patient, post, message):
    client.force_login(patient)
    response = client.post(step_url(draft, 1), post)
    assert response.status_code == 200
    assert message in response.content.decode()
    draft.refresh_from_db()
    assert draft.completed_steps == []


def test_pain_is_0_to_10_and_the_worst_is_not_below_now(client, draft, patient):
    client.force_login(patient)
    knee = BodyRegion.objects.get(slug="knee").pk
    row = {"body_region": knee, "side": "left", "started_on": "2024-01-01", "onset": "injury"}
    response = client.post(
        step_url(draft, 2), pain_post(row | {"pain_now": "11", "pain_worst_week": "3"})
    )
    assert "Select a valid choice" in response.content.decode()
    response = client.post(
        step_url(draft, 2), pain_post(row | {"pain_now": "7", "pain_worst_week": "3"})
    )
    assert "cannot be lower than your pain now" in response.content.decode()
    response = client.post(
        step_url(draft, 2),
        pain_post(row | {"pain_now": "7", "pain_worst_week": "9", "started_on": "2999-01-01"}),
    )
    assert "must be this month or earlier" in response.content.decode()
    assert not draft.complaints.exists()


def test_a_condition_from_another_area_is_refused(client, draft, patient):
    client.force_login(patient)
    knee = BodyRegion.objects.get(slug="knee")
    elsewhere = Condition.objects.get(slug="hip-osteoarthritis")
    row = {
        "body_region": knee.pk,
        "side": "left",
        "started_on": "2024-01-01",
        "onset": "injury",
        "pain_now": "3",
        "pain_worst_week": "5",
    }
    response = client.post(step_url(draft, 2), pain_post(row | {"condition": elsewhere.pk}))
    assert "is not a knee condition" in response.content.decode()


AREA = {
    "side": "right",
    "started_on": "2023-06-01",
    "onset": "gradual",
    "pain_now": "3",
    "pain_worst_week": "5",
}


def two_painful_areas_saved(client, draft: Intake) -> tuple[int, int]:
    knee, hip = (BodyRegion.objects.get(slug=s).pk for s in ("knee", "hip"))
    client.post(
        step_url(draft, 2), pain_post(AREA | {"body_region": knee}, AREA | {"body_region": hip})
    )
    return knee, hip


def test_several_painful_areas_and_removing_one(client, draft, patient):
    client.force_login(patient)
    knee, hip = two_painful_areas_saved(client, draft)
    assert draft.complaints.count() == 2
    post = pain_post(AREA | {"body_region": knee}, AREA | {"body_region": hip, "DELETE": "on"})
    response = client.post(step_url(draft, 2), post)
    assert response.status_code == 302, response.content.decode().split("step-form")[0][-1500:]
    assert [c.body_region_id for c in draft.complaints.all()] == [knee]


def test_a_steroid_injection_needs_its_date_and_surgery_its_name(client, draft, patient):
    client.force_login(patient)
    post = tried_post(
        steroid_injection={"tried": "yes", "outcome": "some"},
        surgery={"tried": "yes", "outcome": "none"},
    )
    page = client.post(step_url(draft, 4), post).content.decode()
    assert "month and year of your last steroid injection" in page
    assert "which surgery you had" in page
    post = tried_post(
        steroid_injection={"tried": "yes", "outcome": "some", "last_on": "2025-01-10"},
        surgery={
            "tried": "yes",
            "outcome": "none",
            "last_on": "2020-02-01",
            "details": "Arthroscopy",
        },
    )
    assert client.post(step_url(draft, 4), post).status_code == 302
    saved = {t.kind: t for t in draft.prior_treatments.all()}
    assert saved["surgery"].details == "Arthroscopy"
    assert saved["steroid_injection"].last_on == date(2025, 1, 1)  # a month, not a day
    assert not saved["prp"].tried


def test_every_health_question_needs_an_answer(client, draft, patient):
    client.force_login(patient)
    post = health_post()
    del post["screen_anticoagulant"]
    page = client.post(step_url(draft, 5), post).content.decode()
    assert "Please answer yes, no or not sure." in page
    assert not draft.screening_answers.exists()


def test_insurance_needs_a_carrier(client, draft, patient):
    client.force_login(patient)
    page = client.post(step_url(draft, 7), goals_post(payment="insurance")).content.decode()
    assert "Tell us your insurance company" in page
    assert "usually <strong>self-pay</strong>" in page


def test_the_goals_step_shows_the_catalogs_cost_ranges(client, draft, patient):
    client.force_login(patient)
    page = client.get(step_url(draft, 7)).content.decode()
    for option in TreatmentOption.objects.offered():
        assert f"${option.cost_min_usd:,}–${option.cost_max_usd:,}" in page


# --- Review, submit, after -------------------------------------------------------------


def test_the_review_page_lists_missing_steps_and_refuses_to_submit(client, draft, verified_patient):
    client.force_login(verified_patient)
    page = client.get(step_url(draft, 8)).content.decode()
    assert "Before you can sign, please complete" in page
    response = client.post(step_url(draft, 8), consent_post())
    assert "Please complete step 1, 2, 3, 4, 5, 6, 7" in response.content.decode()
    assert not Case.objects.exists()


def test_a_minor_sees_the_guardian_fields(client, verified_patient):
    today = timezone.localdate()
    intake = intake_ready_to_sign(verified_patient, date_of_birth=date(today.year - 12, 6, 1))
    client.force_login(verified_patient)
    page = client.get(step_url(intake, 8)).content.decode()
    assert "a parent or guardian must sign too" in page
    response = client.post(step_url(intake, 8), consent_post(verified_patient.full_name))
    assert "This field is required" in response.content.decode()
    assert not Case.objects.exists()


def test_a_double_submit_shows_the_same_case(client, verified_patient):
    intake = intake_ready_to_sign(verified_patient)
    client.force_login(verified_patient)
    first = client.post(step_url(intake, 8), consent_post(verified_patient.full_name))
    second = client.post(step_url(intake, 8), consent_post(verified_patient.full_name))
    assert (
        first["Location"] == second["Location"] == reverse("intake:detail", args=[intake.public_id])
    )
    assert Case.objects.count() == 1


def test_after_submitting_the_intake_is_read_only(client, verified_patient):
    intake = intake_ready_to_sign(verified_patient)
    services.intake_submit(intake=intake, signature=signature_for(intake))
    client.force_login(verified_patient)
    for step in (1, 8):
        response = client.post(step_url(intake, step), about_post(legal_name="Changed"))
        assert response["Location"] == reverse("intake:detail", args=[intake.public_id])
    intake.refresh_from_db()
    assert intake.legal_name == verified_patient.full_name


def test_the_patient_answers_a_request_on_the_intake_page(client, verified_patient, physician):
    intake = intake_ready_to_sign(verified_patient)
    case = services.intake_submit(intake=intake, signature=signature_for(intake))
    asked = cases.case_request_information(
        case=case, physician=physician, question="Which knee hurts more?"
    )
    client.force_login(verified_patient)
    detail = reverse("intake:detail", args=[intake.public_id])
    page = client.get(detail).content.decode()
    assert "More information needed" in page
    assert "Which knee hurts more?" in page
    url = reverse("intake:information_answer", args=[intake.public_id, asked.public_id])
    response = client.post(url, {f"{asked.public_id}-answer": "  "})
    assert "This field is required" in response.content.decode()
    response = client.post(url, {f"{asked.public_id}-answer": "The left one"})
    assert response["Location"] == detail
    assert "Under review" in client.get(detail).content.decode()


def test_the_home_page_lists_intakes_in_a_fixed_number_of_queries(
    client, verified_patient, django_assert_max_num_queries
):
    client.force_login(verified_patient)
    for _ in range(3):
        intake = intake_ready_to_sign(verified_patient)
        services.intake_submit(intake=intake, signature=signature_for(intake))
    services.intake_start(patient=verified_patient)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("intake:home")).content.decode()
    assert page.count("Received") == 3
    assert "Continue at step 1 of 8" in page


def test_the_summary_reads_in_a_fixed_number_of_queries(
    verified_patient, django_assert_num_queries
):
    from intake.selectors import intake_summary

    intake = intake_ready_to_sign(verified_patient)
    # One query per kind of answer row, on the intake already loaded.
    with django_assert_num_queries(8):
        summary = intake_summary(intake)
    assert len(summary.prior_treatments) == 7


def test_a_row_marked_for_removal_is_not_checked(client, draft, patient):
    client.force_login(patient)
    knee, hip = two_painful_areas_saved(client, draft)
    half_cleared = AREA | {"body_region": hip, "started_on": "", "DELETE": "on"}
    response = client.post(
        step_url(draft, 2), pain_post(AREA | {"body_region": knee}, half_cleared)
    )
    assert response.status_code == 302
    assert [c.body_region_id for c in draft.complaints.all()] == [knee]
