"""The rough edges of the patient's pages (issue 17): what a patient typed comes back
as typed, the step's controls, the pain scale, month-and-year dates, the home page's
order and the formats of references, scores, measurements and prices."""

import re
from datetime import date
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from clinic.tokens import email_verification_tokens
from intake import cases
from intake.models import Intake, PriorTreatment
from intake.templatetags.patient_format import price_range
from tests.factories import intake_ready_to_sign, submitted_case
from tests.intake.step_posts import (
    about_post,
    consent_post,
    function_post,
    pain_post,
    tried_post,
)
from treatments.models import BodyRegion, TreatmentOption

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


# --- The patient's home and e-mail confirmation -------------------------------------------


def test_a_physicians_question_and_the_newest_case_come_before_a_new_intake(
    login, patient, physician
):
    older = submitted_case(patient)
    newest = submitted_case(patient)
    cases.case_claim(case=newest, physician=physician)
    question = cases.case_request_information(
        case=newest, physician=physician, question="Does the knee swell after walking?"
    )
    page = login(patient).get(reverse("intake:home")).content.decode()
    detail = reverse("intake:detail", args=[newest.intake.public_id])
    answer = f'<a class="btn btn-primary" href="{detail}#req-{question.public_id}">'
    assert f"{answer}Answer your physician</a>" in page
    assert "Does the knee swell after walking?" in page
    latest = page.index(f'Your intake <span class="text-nowrap">{newest.reference}</span>')
    assert page.index("Answer your physician") < latest < page.index("Start a new intake")
    assert page.index("Earlier intakes") < page.index("Start a new intake")
    assert page.index(older.reference) > latest


def test_an_answered_question_no_longer_waits_on_the_home_page(login, patient, physician):
    case = submitted_case(patient)
    cases.case_claim(case=case, physician=physician)
    asked = cases.case_request_information(case=case, physician=physician, question="Swelling?")
    cases.information_request_answer(request=asked, patient=patient, answer="No.")
    page = login(patient).get(reverse("intake:home")).content.decode()
    assert "Answer your physician" not in page


def test_the_home_page_reads_questions_in_a_fixed_number_of_queries(
    login, patient, physician, django_assert_max_num_queries
):
    client = login(patient)
    for n in range(3):
        case = submitted_case(patient)
        cases.case_claim(case=case, physician=physician)
        cases.case_request_information(case=case, physician=physician, question=f"Q{n}?")
    with CaptureQueriesContext(connection) as three:
        client.get(reverse("intake:home"))
    case = submitted_case(patient)
    cases.case_claim(case=case, physician=physician)
    cases.case_request_information(case=case, physician=physician, question="Q4?")
    with django_assert_max_num_queries(len(three)):
        client.get(reverse("intake:home"))


def test_after_sign_up_the_confirmation_notice_shows_once(client):
    response = client.post(
        reverse("intake:signup"),
        {
            "full_name": "Nora New",
            "email": "nora@clinic.example",
            "password1": "knee-pain-since-2019",
            "password2": "knee-pain-since-2019",
        },
        follow=True,
    )
    page = response.content.decode()
    assert page.count("nora@clinic.example</strong>") == 1
    assert page.count("We sent a link") + page.count("link we sent") == 1


def test_the_confirmation_page_names_the_address(client, patient):
    uid = urlsafe_base64_encode(force_bytes(patient.pk))
    url = reverse("verify_email", args=[uid, email_verification_tokens.make_token(patient)])
    page = client.get(url).content.decode()
    assert f'<strong class="text-break">{patient.email}</strong>' in page
    assert "Confirm my e-mail address" in page
    forged = client.get(reverse("verify_email", args=[uid, "1-forged"])).content.decode()
    assert patient.email not in forged
    assert "no longer works" in forged


# --- How numbers and words read ------------------------------------------------------------


def test_the_reference_does_not_wrap_at_its_hyphen(login, patient):
    case = submitted_case(patient)
    page = login(patient).get(reverse("intake:detail", args=[case.intake.public_id]))
    assert f'<span class="text-nowrap">{case.reference}</span>' in page.content.decode()


def test_the_reference_in_the_thank_you_message_does_not_wrap(login, patient):
    intake = intake_ready_to_sign(patient)
    client = login(patient)
    response = client.post(step_url(intake, 8), consent_post(), follow=True)
    reference = Intake.objects.get(pk=intake.pk).case.reference
    page = response.content.decode()
    assert f'your reference is <span class="text-nowrap">{reference}</span>.' in page


def test_patients_see_whole_scores_and_heights_staff_the_decimal(login, patient, physician):
    case = submitted_case(patient)
    intake = case.intake
    Intake.objects.filter(pk=intake.pk).update(
        height_cm=Decimal("165.0"), weight_kg=Decimal("64.5")
    )
    adl = intake.responses.get(instrument__slug="daily-activities")
    adl.score = Decimal("53.1")
    adl.save()
    page = login(patient).get(reverse("intake:detail", args=[intake.public_id])).content.decode()
    assert "165 cm, 64.5 kg" in page
    assert "165.0" not in page
    assert "Daily activities: <strong>53</strong>" in page
    staff = login(physician).get(reverse("review:case", args=[case.public_id])).content.decode()
    assert "53.1" in staff


def test_prices_read_the_same_on_the_home_page_and_in_the_intake(client, draft, patient):
    option = TreatmentOption.objects.offered().get(slug="prp")
    expected = f"${option.cost_min_usd:,}–${option.cost_max_usd:,}"
    home = client.get(reverse("home")).content.decode()
    client.force_login(patient)
    goals = client.get(step_url(draft, 7)).content.decode()
    for page in (home, goals):
        assert expected in page
        assert "US$" not in page
        assert " USD" not in page


def test_a_thousand_dollars_is_grouped(db):
    option = TreatmentOption(cost_min_usd=1200, cost_max_usd=15000)
    assert price_range(option) == "$1,200–$15,000"
    assert price_range(TreatmentOption(cost_min_usd=300, cost_max_usd=300)) == "$300"


def test_patient_wording_is_us_english(client, draft, patient):
    client.force_login(patient)
    pages = [client.get(step_url(draft, n)).content.decode() for n in range(1, 9)]
    pages.append(client.post(step_url(draft, 1), about_post(height_cm="")).content.decode())
    pages.append(client.post(step_url(draft, 8), {}).content.decode())
    text = " ".join(pages).lower()
    # (The catalog's questions, such as "anesthetic", are checked with the catalog.)
    for british in ("centimetre", "tick this box", "working days", "licence"):
        assert british not in text, british
