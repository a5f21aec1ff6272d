"""The rough edges of the patient's pages (issue 17): what a patient typed comes back
as typed, the step's controls, the pain scale, month-and-year dates, the home page's
order and the formats of references, scores, measurements and prices."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from intake.models import Intake, PriorTreatment
from tests.intake.step_posts import about_post, function_post, pain_post, tried_post
from treatments.models import BodyRegion

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


def area(**answers: object) -> dict[str, object]:
    """One painful knee, as step 2 sends it, with these answers changed."""
    return {
        "body_region": BodyRegion.objects.get(slug="knee").pk,
        "side": "right",
        "onset": "gradual",
        "started_on_0": "6",
        "started_on_1": "2023",
        "pain_now": "3",
        "pain_worst_week": "5",
        **answers,
    }


# --- The step's controls ---------------------------------------------------------------


def test_step_buttons_are_in_the_order_they_are_shown(client, draft, patient):
    client.force_login(patient)
    page = client.get(step_url(draft, 2)).content.decode()
    nav = page[page.index('class="step-nav') :]
    assert nav.index('value="back"') < nav.index('value="exit"') < nav.index('value="next"')


def test_the_error_summary_can_take_the_focus(client, draft, patient):
    client.force_login(patient)
    page = client.post(step_url(draft, 1), about_post(phone="12")).content.decode()
    summary = re.search(r'<div[^>]*id="error-summary"[^>]*>', page)
    assert summary is not None
    assert 'tabindex="-1"' in summary.group()
    assert "data-error-summary" in summary.group()
    assert '<a class="alert-link" href="#id_phone">' in page
    assert "<script>" not in page  # the focus is moved by static/js/clinic.js


def test_step_2_offers_another_area_before_anything_is_saved(client, draft, patient):
    client.force_login(patient)
    page = client.get(step_url(draft, 2)).content.decode()
    assert 'name="action" value="add"' in page
    assert "Save and add another area" in page
    response = client.post(step_url(draft, 2), {**pain_post(), "action": "add"})
    assert response.status_code == 302
    assert response["Location"] == f"{step_url(draft, 2)}?add=1#another-area"
    assert draft.complaints.count() == 1
    page = client.get(response["Location"]).content.decode()
    assert re.search(r'<details class="card mb-3" id="another-area" open>', page)
    assert 'name="complaint-1-body_region"' in page
    assert 'value="add"' not in page  # the open row is the control now


def test_another_area_with_the_first_incomplete_shows_what_to_fix(client, draft, patient):
    client.force_login(patient)
    post = pain_post(
        {"body_region": BodyRegion.objects.get(slug="knee").pk, "side": "left", "pain_now": "4"}
    )
    response = client.post(step_url(draft, 2), {**post, "action": "add"})
    assert response.status_code == 200
    assert "Please check" in response.content.decode()
    assert not draft.complaints.exists()


# --- The pain scale, asked once ---------------------------------------------------------


def test_pain_is_a_row_of_eleven_buttons_with_its_ends_in_words(client, draft, patient):
    client.force_login(patient)
    page = client.get(step_url(draft, 2)).content.decode()
    for name in ("complaint-0-pain_now", "complaint-0-pain_worst_week"):
        values = re.findall(
            rf'<input type="radio" class="scale-input" name="{name}" value="(\d+)"', page
        )
        assert values == [str(n) for n in range(11)]
    assert '<select name="complaint-0-pain_now"' not in page
    assert "0 no pain" in page
    assert "10 worst imaginable" in page
    assert '<span class="visually-hidden"> (no pain)</span>' in page


def test_pain_is_asked_at_step_2_only(client, draft, patient):
    client.force_login(patient)
    function = client.get(step_url(draft, 3)).content.decode()
    assert "pain on average" not in function.lower()
    assert "0–10" not in function
    pain = client.get(step_url(draft, 2)).content.decode()
    assert "Pain right now (0–10)" in pain
    assert "Worst pain in the last week (0–10)" in pain


def test_the_function_step_saves_and_scores_without_a_pain_rating(client, draft, patient):
    client.force_login(patient)
    response = client.post(step_url(draft, 3), function_post(2))
    assert response.status_code == 302
    slugs = set(draft.responses.values_list("instrument__slug", flat=True))
    assert slugs == {"percent-of-normal", "daily-activities"}
    adl = draft.responses.get(instrument__slug="daily-activities")
    assert adl.score == Decimal("50.0")  # "Some" (2 of 4) to every activity


# --- Month and year -----------------------------------------------------------------------


def test_when_the_pain_started_is_a_month_and_a_year(client, draft, patient):
    client.force_login(patient)
    page = client.get(step_url(draft, 2)).content.decode()
    assert 'name="complaint-0-started_on_0"' in page  # the month
    assert 'name="complaint-0-started_on_1"' in page  # the year
    assert 'type="date"' not in page
    row = area(started_on_0="9", started_on_1="2019")
    assert client.post(step_url(draft, 2), pain_post(row)).status_code == 302
    assert draft.complaints.get().started_on == date(2019, 9, 1)
    page = client.get(step_url(draft, 2)).content.decode()
    assert '<option value="9" selected>September</option>' in page
    assert field_value(page, "complaint-0-started_on_1") == "2019"


@pytest.mark.parametrize(
    ("month", "year", "message"),
    [
        ("", "2019", "Choose the month as well as the year."),
        ("3", "", "Type the year as well"),
        ("3", "20x9", "Type the year with four digits"),
        ("3", "0000", "Type the year with four digits"),
        ("", "", "Choose the month and type the year."),
    ],
)
def test_a_month_and_year_that_cannot_be_read_is_explained(
    client, draft, patient, month, year, message
):
    client.force_login(patient)
    row = area(started_on_0=month, started_on_1=year)
    response = client.post(step_url(draft, 2), pain_post(row))
    page = response.content.decode()
    assert response.status_code == 200
    assert message in page
    assert field_value(page, "complaint-0-started_on_1") == year
    assert 'href="#id_complaint-0-started_on_0"' in page


def test_a_month_still_to_come_is_refused(client, draft, patient):
    client.force_login(patient)
    next_year = str(timezone.localdate().year + 1)
    row = area(started_on_0="1", started_on_1=next_year)
    page = client.post(step_url(draft, 2), pain_post(row)).content.decode()
    assert "must be this month or earlier" in page


def test_the_last_treatment_and_the_scan_are_a_month_and_a_year(client, draft, patient):
    client.force_login(patient)
    post = tried_post(steroid_injection={"tried": "yes", "outcome": "some"})
    post |= {"prior-2-last_on_0": "11", "prior-2-last_on_1": "2023"}
    assert PriorTreatment.Kind.values[2] == "steroid_injection"
    assert client.post(step_url(draft, 4), post).status_code == 302
    assert draft.prior_treatments.get(kind="steroid_injection").last_on == date(2023, 11, 1)
    page = client.get(step_url(draft, 6)).content.decode()
    assert 'name="study-0-done_on_0"' in page


def test_a_kept_answer_in_the_old_date_form_still_shows(client, draft, patient):
    """A draft kept a refused step 2 when the page still sent one date."""
    draft.pending_answers = {
        "2": {
            "complaint-TOTAL_FORMS": ["1"],
            "complaint-INITIAL_FORMS": ["0"],
            "complaint-0-started_on": ["2021-04-17"],
        }
    }
    draft.save(update_fields=["pending_answers"])
    client.force_login(patient)
    page = client.get(step_url(draft, 2)).content.decode()
    assert '<option value="4" selected>April</option>' in page
    assert field_value(page, "complaint-0-started_on_1") == "2021"


def test_going_back_keeps_a_half_typed_month_and_year(client, draft, patient):
    client.force_login(patient)
    row = area(body_region="", started_on_0="", started_on_1="201")
    client.post(step_url(draft, 2), {**pain_post(row), "action": "back"})
    page = client.get(step_url(draft, 2)).content.decode()
    assert field_value(page, "complaint-0-started_on_1") == "201"
