"""A Spanish-speaking patient on a 375-px phone (issue 23): switches the home page to
Spanish, signs up, confirms their e-mail and opens step 1 of the intake, all in
Spanish, with axe-core clean and nothing wider than the phone (Spanish runs about 20%
longer than English). Not yet covered here: the later steps, submitting and answering
a question in Spanish (see the report of issue 23)."""

import re

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from clinic.models import User
from tests.browser.journey import PHONE, inspect

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "dolor-de-rodilla-2019"


def test_a_spanish_speaking_patient_signs_up_and_starts_the_intake_on_a_phone(
    page: Page, live_server, axe_violations
):
    problems: dict[str, list[str]] = {}
    page.set_default_timeout(10_000)
    page.set_viewport_size(PHONE)

    page.goto(f"{live_server.url}/")
    page.get_by_role("button", name="Español").click()
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Tratamientos con inyecciones para el dolor de articulaciones, tendones y columna"
    )
    inspect(page, "home-es", axe_violations, problems, widths=(PHONE,))

    page.get_by_role("link", name="Empiece su formulario").click()
    page.get_by_label("Su nombre completo").fill("Lucía Gómez")
    page.get_by_label("Correo electrónico").fill("lucia@clinic.example")
    page.get_by_label("Elija una contraseña").fill(PASSWORD)
    page.get_by_label("Repita la contraseña").fill(PASSWORD + "x")
    page.get_by_role("button", name="Crear mi cuenta").click()
    expect(page.get_by_role("alert")).to_contain_text("Corrija el campo marcado abajo.")
    expect(page.get_by_text("Las dos contraseñas no coinciden.")).to_be_visible()
    inspect(page, "signup-errors-es", axe_violations, problems, widths=(PHONE,))

    page.get_by_label("Elija una contraseña").fill(PASSWORD)
    page.get_by_label("Repita la contraseña").fill(PASSWORD)
    page.get_by_role("button", name="Crear mi cuenta").click()
    expect(page).to_have_url(f"{live_server.url}/intake/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Bienvenido/a, Lucía")
    inspect(page, "home-signed-in-es", axe_violations, problems, widths=(PHONE,))
    patient = User.objects.get(email="lucia@clinic.example")
    assert patient.language == "es"

    # The confirmation link itself is covered by the English journey.
    User.objects.filter(pk=patient.pk).update(email_verified_at=timezone.now())
    page.reload()
    page.get_by_role("button", name="Empezar mi formulario").click()
    expect(page.get_by_text("Paso 1 de 8", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sobre usted")
    inspect(page, "step-1-es", axe_violations, problems, widths=(PHONE,))

    page.get_by_label("Fecha de nacimiento").fill("2999-01-01")
    page.get_by_role("button", name="Guardar y continuar").click()
    summary = page.get_by_role("alert").filter(has_text="Revise")
    expect(summary).to_contain_text(re.compile(r"Revise \d+ respuestas"))
    expect(summary).to_contain_text("no puede ser posterior a hoy")
    inspect(page, "step-1-errors-es", axe_violations, problems, widths=(PHONE,))

    assert problems == {}
