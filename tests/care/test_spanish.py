"""A Spanish-speaking patient's care pages, questionnaire, record and messages are in
Spanish (issue 23); what staff read stays English."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import translation

from care.models import FollowUp
from care.services import followups
from clinic.models import OutboundEmail, User
from tests.care.followup_helpers import answers, at_opening, form_data, treat
from tests.care.helpers import billing_provider, latest_estimate, shared_plan
from tests.factories import case_to_book, submitted_case, working_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def spanish_patient(patient: User) -> User:
    patient.language = "es"
    patient.save(update_fields=["language"])
    return patient


@pytest.fixture
def treated(physician: User, spanish_patient: User, front_desk: User) -> FollowUp:
    """Left knee, PRP; the 6-week questionnaire open (its invitation sent)."""
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    record = treat(case_to_book(physician, patient=spanish_patient), physician, front_desk)
    six_weeks = record.followup_series.followups.get(label="6 weeks")
    followups.followups_run(now=at_opening(six_weeks))
    six_weeks.refresh_from_db()
    return six_weeks


def _page(client: Client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    assert response.headers["Content-Language"] == "es"
    return response.content.decode()


def test_the_care_page_is_in_spanish(login, spanish_patient: User, treated: FollowUp) -> None:
    client = login(spanish_patient)
    client.post(reverse("care:followup", args=[treated.public_id]), form_data())
    case = treated.series.case
    page = _page(client, reverse("care:patient_care", args=[case.public_id]))
    for text in [
        "Su plan de tratamiento",
        "Plasma rico en plaquetas (PRP)",  # the catalog's Spanish name
        "Rodilla (lado izquierdo)",
        "Guía por imagen",
        "Ecografía",
        "con ecografía para guiar la aguja",
        "Cómo se siente desde su tratamiento",
        "6 semanas",
        "Dolor (0–10)",  # the chart and its table
        "Antes del tratamiento",
        "Guardar mis preferencias",
        "Estimaciones de buena fe",
    ]:
        assert text in page, text
    # (The physician's note to the patient is shown as written: here, in English.)
    for english in ["Your treatment plan", "Left knee", "How you are doing", "Before treatment"]:
        assert english not in page, english


def test_a_spanish_speaking_patients_estimate_is_issued_in_spanish(
    login, physician: User, spanish_patient: User
) -> None:
    """The document itself: the catalog's service descriptions, the primary service
    and the disclaimers of the current Spanish version; the page and the PDF print
    it in Spanish."""
    import io

    from pypdf import PdfReader

    billing_provider()
    case = case_to_book(physician, patient=spanish_patient)
    with translation.override("en"):  # the physician shares the plan in English
        shared_plan(case, physician, "prp")  # a self-pay patient's estimate is issued at once
    estimate = latest_estimate(case)
    assert estimate.language == "es" and estimate.disclaimer.language == "es"
    assert estimate.primary_service.startswith("Plasma rico en plaquetas (PRP): Rodilla")
    line = estimate.lines.get()
    assert line.description.startswith("Inyección de plasma rico en plaquetas")
    client = login(spanish_patient)
    page = _page(client, reverse("care:estimate", args=[estimate.public_id]))
    for text in [
        "Estimación de buena fe",
        "Servicio principal",
        "Total de cargos previstos",
        "Recibí esta estimación",
        "Esta es una estimación, no un contrato",
        "al menos $400 más alta",
    ]:
        assert text in page, text
    for english in ["I have received this estimate", "not a contract", "se emitió en inglés"]:
        assert english not in page, english
    response = client.get(reverse("care:estimate_download", args=[estimate.public_id]))
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(response.content)).pages)
    text = " ".join(text.split())
    for expected in [
        "Estimación de buena fe",
        "Servicio principal",
        "Inyección de plasma rico en plaquetas",
        "Esta es una estimación, no un contrato",
        "0232T",
    ]:
        assert expected in text, expected
    assert "Primary service" not in text and "not a contract" not in text


def test_staff_see_the_spanish_estimate_as_it_was_issued(
    login, physician: User, front_desk: User, spanish_patient: User
) -> None:
    billing_provider()
    case = case_to_book(physician, patient=spanish_patient)
    shared_plan(case, physician, "prp")
    estimate = latest_estimate(case)
    page = login(front_desk).get(reverse("care:estimate", args=[estimate.public_id]))
    text = page.content.decode()
    assert '<div lang="es">' in text
    assert "Esta es una estimación, no un contrato" in text


def test_without_spanish_disclaimers_the_estimate_is_english_and_says_so(
    login, physician: User, spanish_patient: User
) -> None:
    from care.models import EstimateDisclaimer

    EstimateDisclaimer.objects.filter(language="es").update(is_current=False)
    billing_provider()
    case = case_to_book(physician, patient=spanish_patient)
    shared_plan(case, physician, "prp")
    estimate = latest_estimate(case)
    assert estimate.language == "en" and estimate.disclaimer.language == "en"
    assert estimate.lines.get().description.startswith("Platelet-rich plasma injection")
    page = _page(login(spanish_patient), reverse("care:estimate", args=[estimate.public_id]))
    assert "Esta estimación se emitió en inglés" in page  # says why the document is English
    assert "Recibí esta estimación" in page  # the page around it stays Spanish
    assert '<div lang="en">' in page and "not a contract" in page


def test_the_questionnaire_is_in_spanish_and_an_error_keeps_the_answers(
    login, spanish_patient: User, treated: FollowUp
) -> None:
    client = login(spanish_patient)
    url = reverse("care:followup", args=[treated.public_id])
    page = _page(client, url)
    for text in [
        "¿Cómo se siente, 6 semanas después de su tratamiento?",
        "Comparada con antes del tratamiento, ¿cómo está ahora la zona tratada?",
        "Muchísimo mejor",
        "Desde el tratamiento, ¿ha tenido…",
        "Fiebre",
        "Enviar mis respuestas",
    ]:
        assert text in page, text
    data = form_data()
    data.pop("fever")
    response = client.post(url, data)
    page = response.content.decode()
    assert response.status_code == 200
    assert "Algunas preguntas aún no tienen respuesta" in page
    assert "Responda sí o no." in page
    chosen = re.search(r'<input[^>]*name="global_change" value="2"[^>]*>', page)
    assert chosen and "checked" in chosen.group(0)
    treated.refresh_from_db()
    assert treated.state == "open"


def test_what_the_physician_reads_of_a_spanish_answer_is_english(
    login, spanish_patient: User, treated: FollowUp
) -> None:
    client = login(spanish_patient)
    client.post(reverse("care:followup", args=[treated.public_id]), form_data(answers(fever=True)))
    treated.refresh_from_db()
    assert treated.response.attention_reason == "A fever"


def test_the_record_page_is_in_spanish(login, spanish_patient: User) -> None:
    submitted_case(spanish_patient)
    page = _page(login(spanish_patient), reverse("records:my_record"))
    for text in ["Su expediente", "Sobre usted", "Cuestionarios", "Lo que decidió el médico"]:
        assert text in page, text
    assert "Your health record" not in page


def test_the_followup_invitation_is_in_the_patients_language(treated: FollowUp) -> None:
    """The periodic task runs in English; the patient reads Spanish."""
    email = OutboundEmail.objects.get(
        to=treated.series.patient.email, subject__contains="cuestionario"
    )
    assert email.subject.startswith("Tiene un cuestionario breve de")
    assert "Hola Pat Patient" in email.body
    assert "quisiera saber cómo se siente desde su tratamiento" in email.body
    assert "Inicie sesión para responderlo" in email.body


def test_the_estimate_notice_is_in_the_patients_language(
    physician: User, spanish_patient: User
) -> None:
    billing_provider()
    case = case_to_book(physician, patient=spanish_patient)
    with translation.override("en"):  # the physician shares the plan in English
        shared_plan(case, physician, "prp")
    email = OutboundEmail.objects.filter(to=spanish_patient.email).latest("pk")
    assert email.subject.endswith("tiene un documento para usted")
    assert "tiene un documento esperándole en su página" in email.body
