"""The rough edges of the patient's pages (issue 17): what a patient typed comes back
as typed, the step's controls, the pain scale, month-and-year dates, the home page's
order and the formats of references, scores, measurements and prices."""

import re

import pytest
from django.urls import reverse

from intake.models import Intake
from tests.intake.step_posts import about_post

pytestmark = pytest.mark.django_db


def step_url(intake: Intake, step: int) -> str:
    return reverse("intake:step", kwargs={"public_id": intake.public_id, "step": step})


@pytest.fixture
def draft(login, patient) -> Intake:
    login(patient).post(reverse("intake:new"))
    return Intake.objects.get(patient=patient)


def field_value(page: str, name: str) -> str | None:
    tag = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*>', page)
    assert tag is not None, name
    value = re.search(r'value="([^"]*)"', tag.group())
    return value.group(1) if value else None


def test_a_refused_step_shows_every_answer_exactly_as_typed(client, draft, patient):
    client.force_login(patient)
    typed = {
        "phone": "555-12",
        "emergency_contact_phone": "(503) 555-01",
        "height_cm": "165.55",
        "weight_kg": "64.25",
        "date_of_birth": "1970-02-31",
        "postal_code": " 97201 ",
    }
    response = client.post(step_url(draft, 1), about_post(**typed))
    assert response.status_code == 200
    page = response.content.decode()
    for name, value in typed.items():
        assert field_value(page, name) == value, name


def test_a_saved_phone_number_shows_in_the_national_format(client, draft, patient):
    client.force_login(patient)
    client.post(step_url(draft, 1), about_post(phone="2015550123"))
    page = client.get(step_url(draft, 1)).content.decode()
    assert field_value(page, "phone") == "(201) 555-0123"
