"""The intake's pages: every step through the patient's browser (the Django client)."""

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from intake.models import Case, Intake
from tests.intake.step_posts import STEP_POSTS, about_post, consent_post, pain_post

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
