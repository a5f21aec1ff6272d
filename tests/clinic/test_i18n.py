"""Patients can use the product in Spanish (issue 23): every text a patient reads in
the templates listed below is marked for translation, the Spanish catalogue has no
untranslated or fuzzy entry, the patient's choice is stored and followed by e-mails,
and staff pages stay English whatever the browser asks for."""

import re
from pathlib import Path
from typing import Any

import polib
import pytest
from django.core import mail
from django.forms import BaseForm, ChoiceField, ModelChoiceField
from django.template.base import Lexer, TokenType
from django.test import Client
from django.urls import reverse
from django.utils import translation

from care.forms_followups import FollowUpForm, PreferencesForm
from care.services.followups import followup_instruments
from clinic.errors import ClinicError
from clinic.forms import LoginForm, OutboxPasswordResetForm, PatientSignupForm
from clinic.models import OutboundEmail, User
from clinic.roles import Role
from clinic.services import email_verification_send, patient_account_create
from intake.forms import ConsentForm, InformationAnswerForm
from intake.frontdesk_forms import ChangeRequestForm
from intake.models import ConsentDocument, Instrument, Intake
from intake.steps import STEPS
from tests.factories import (
    PASSWORD,
    UserFactory,
    intake_ready_to_sign,
    signature_for,
    submitted_case,
)

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"
SPANISH_PO = ROOT / "locale" / "es" / "LC_MESSAGES" / "django.po"

# Every template a patient (or a visitor) sees, all marked for translation.
PATIENT_TEMPLATES = (
    "base.html",
    "403.html",
    "404.html",
    "500.html",
    "clinic/home.html",
    "intake/signup.html",
    "intake/home.html",
    "intake/detail.html",
    "intake/step_base.html",
    "intake/_summary.html",
    "intake/_red_flag_advice.html",
    "intake/_month_year_field.html",
    "intake/_scale_field.html",
    "intake/steps/about.html",
    "intake/steps/pain.html",
    "intake/steps/_complaint_fields.html",
    "intake/steps/function.html",
    "intake/steps/tried.html",
    "intake/steps/health.html",
    "intake/steps/imaging.html",
    "intake/steps/_study_fields.html",
    "intake/steps/goals.html",
    "intake/steps/review.html",
    "registration/login.html",
    "registration/logged_out.html",
    "registration/locked_out.html",
    "registration/verify_email.html",
    "registration/password_reset_form.html",
    "registration/password_reset_done.html",
    "registration/password_reset_confirm.html",
    "registration/password_reset_complete.html",
    "registration/password_reset_email.html",
    "registration/password_reset_subject.txt",
    "registration/password_change_form.html",
    "registration/password_change_done.html",
    "emails/verify_email.txt",
    "emails/intake_submitted.txt",
    "emails/intake_reminder.txt",
    "emails/case_update.txt",
    "emails/consultation.txt",
    "emails/care_document.txt",
    "emails/followup.txt",
    "care/patient_care.html",
    "care/estimate.html",  # the front desk and the physician read it too, in English
    "care/followup.html",
    "care/_followups.html",
    "care/_followups_patient.html",
    "care/_plan_summary.html",  # shared with the physician's plan page
    "care/_progress_table.html",  # shared with the physician's case page
    "records/my_record.html",
    "records/too_many_downloads.html",
)
# Staff pages are English by design (their users always get English).
STAFF_TEMPLATES = (
    "_pagination.html",
    "_prefers_language.html",
    "clinic/audit_log.html",
    "emails/case_unassigned.txt",
    "emails/case_urgent.txt",
    "registration/two_factor_recovery.html",
    "registration/two_factor_setup.html",
    "registration/two_factor_verify.html",
    "care/plan.html",
    "care/estimates.html",
    "care/followup_calls.html",
    "care/lot_recall.html",
    "care/outcomes_report.html",
    "care/_followups_physician.html",
    "care/_followup_attention.html",
)
STAFF_FOLDERS = ("review/", "frontdesk/")

LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
# Names of languages, written in their own language, on the switch.
AUTONYMS = {"English", "Español"}
READ_ATTRIBUTES = re.compile(r'\b(?:aria-label|title|placeholder|alt)="([^"{]*)')
# A block that holds only attributes (``{% block form_attrs %} enctype="..."``).
ONLY_ATTRIBUTES = re.compile(r'^(\s*[\w-]+="[^"]*")+\s*$')


def untranslated_texts(source: str) -> list[str]:
    """Visible text outside {% translate %}/{% blocktranslate %}: the template's text
    with its HTML tags, comments, variables and template tags taken out, and the
    attributes people read (aria-label, title, placeholder, alt)."""
    found: list[str] = []
    skipping = 0  # inside blocktranslate, comment or verbatim
    in_tag = False
    in_script = False
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            name = token.contents.split()[0] if token.contents else ""
            if name in ("blocktranslate", "blocktrans", "comment", "verbatim"):
                skipping += 1
            elif name in ("endblocktranslate", "endblocktrans", "endcomment", "endverbatim"):
                skipping -= 1
            continue
        if token.token_type != TokenType.TEXT or skipping:
            continue
        text = re.sub(r"<!--.*?-->", "", token.contents, flags=re.S)
        if ONLY_ATTRIBUTES.match(text):
            continue
        visible: list[str] = []
        tag: list[str] = []
        i = 0
        while i < len(text):
            char = text[i]
            if in_tag:
                if char == ">":
                    in_tag = False
                    opened = "".join(tag).lower()
                    in_script = opened.startswith(("script", "style")) or (
                        in_script and not opened.startswith(("/script", "/style"))
                    )
                    tag = []
                else:
                    tag.append(char)
            elif (
                char == "<" and i + 1 < len(text) and (text[i + 1].isalpha() or text[i + 1] in "/!")
            ):
                in_tag = True
                visible.append(" ")
            elif not in_script:
                visible.append(char)
            i += 1
        for value in READ_ATTRIBUTES.findall(text):
            if LETTERS.search(value):
                found.append(f"attribute: {value.strip()}")
        for piece in re.split(r"\s{2,}|\n", re.sub(r"&#?\w+;", " ", "".join(visible))):
            piece = piece.strip()
            if LETTERS.search(piece) and piece not in AUTONYMS:
                found.append(piece)
    return found


def test_the_checker_finds_text_outside_translation_tags() -> None:
    assert untranslated_texts("<p>Hello</p>") == ["Hello"]
    assert untranslated_texts('<p>{% translate "Hello" %}</p>') == []
    assert untranslated_texts("<p>{% blocktranslate %}Hi {{ n }}{% endblocktranslate %}</p>") == []
    assert untranslated_texts('<a aria-label="Close">{{ x }}</a>') == ["attribute: Close"]
    assert untranslated_texts('<a class="a{% if x %} b{% endif %}" href="/">{{ x }}</a>') == []
    assert untranslated_texts("{% comment %}Why{% endcomment %}<b>—</b>") == []


@pytest.mark.parametrize("name", PATIENT_TEMPLATES)
def test_patient_templates_mark_every_visible_text_for_translation(name: str) -> None:
    assert untranslated_texts((TEMPLATES / name).read_text()) == []


def test_every_template_is_patient_facing_or_staff_only() -> None:
    every = {
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*")
        if path.suffix in (".html", ".txt")
    }
    sorted_out = {
        name
        for name in every
        if name in PATIENT_TEMPLATES or name in STAFF_TEMPLATES or name.startswith(STAFF_FOLDERS)
    }
    assert sorted(every - sorted_out) == []


def _spanish_catalogue() -> polib.POFile:
    return polib.pofile(str(SPANISH_PO))


def test_the_spanish_catalogue_has_no_untranslated_or_fuzzy_entry() -> None:
    catalogue = _spanish_catalogue()
    assert [e.msgid for e in catalogue.untranslated_entries()] == []
    assert [e.msgid for e in catalogue.fuzzy_entries()] == []
    assert catalogue.metadata["Language"] == "es"


def test_the_spanish_catalogue_keeps_every_placeholder() -> None:
    """A translation that drops or renames %(name)s would fail when it is shown."""
    placeholder = re.compile(r"%\(\w+\)s|\{\}|<[^>]+>")
    wrong = []
    for entry in _spanish_catalogue().translated_entries():
        expected = sorted(placeholder.findall(entry.msgid))
        # The singular may say "el campo" instead of "1 campo".
        translations = (
            [entry.msgstr]
            if not entry.msgid_plural
            else [text for index, text in entry.msgstr_plural.items() if index > 0]
        )
        for msgstr in translations:
            if sorted(placeholder.findall(msgstr)) != expected:
                wrong.append(entry.msgid)
    assert wrong == []


def _labels(form: BaseForm) -> list[str]:
    """The form's words, the questions that come from data included (the
    questionnaires' items and answers, the catalog's screening questions)."""
    texts = []
    for field in form.fields.values():
        texts += [str(field.label or ""), str(field.help_text or "")]
        if isinstance(field, ChoiceField) and not isinstance(field, ModelChoiceField):
            choices: list[tuple[Any, Any]] = list(field.choices)  # type: ignore[arg-type]
            texts += [str(label) for value, label in choices if value != ""]
    return [text for text in texts if LETTERS.search(text)]


# Words that read the same in both languages.
SAME_IN_SPANISH = {"MRI", "PDF", "No", "Intersex", "Video", *AUTONYMS}


def _patient_forms(intake: Intake) -> list[BaseForm]:
    forms: list[BaseForm] = [
        PatientSignupForm(),
        LoginForm(),
        OutboxPasswordResetForm(),
        ConsentForm(minor=True),
        InformationAnswerForm(),
        ChangeRequestForm(),
        FollowUpForm(instruments=followup_instruments()),
        PreferencesForm(),
    ]
    for step in STEPS.values():
        built = step.build(intake, None, None)
        forms += list(built.all())
        if built.formset is not None:
            forms.append(built.formset.empty_form)
    return forms


@pytest.mark.django_db
def test_patient_forms_are_in_spanish(patient: User) -> None:
    """Every label, help text and answer of the sign-up, login, intake and follow-up
    forms reads differently in Spanish: a text nobody marked would read the same."""
    intake = Intake.objects.create(patient=patient)
    with translation.override("en"):
        english = [_labels(form) for form in _patient_forms(intake)]
    with translation.override("es"):
        spanish = [_labels(form) for form in _patient_forms(intake)]
    same = {
        en
        for en_form, es_form in zip(english, spanish, strict=True)
        for en, es in zip(en_form, es_form, strict=True)
        if en == es and en not in SAME_IN_SPANISH
    }
    assert sorted(same) == []


# --- Choosing the language --------------------------------------------------------------


@pytest.mark.django_db
def test_a_visitors_browser_chooses_the_first_pages_language(client: Client) -> None:
    page = client.get(reverse("home"), headers={"accept-language": "es-US,es;q=0.9"})
    assert page.headers["Content-Language"] == "es"
    assert '<html lang="es">' in page.text
    assert "Empiece su formulario" in page.text
    english = Client().get(reverse("home"), headers={"accept-language": "en-US"})
    assert "Start your intake" in english.text


@pytest.mark.django_db
def test_the_switch_keeps_a_visitors_choice_in_the_cookie(client: Client) -> None:
    answer = client.post(reverse("language_set"), {"language": "es", "next": "/accounts/login/"})
    assert answer.status_code == 302 and answer["Location"] == "/accounts/login/"
    assert client.cookies["django_language"].value == "es"
    assert "Iniciar sesión" in client.get(reverse("login")).text


@pytest.mark.django_db
def test_the_switch_refuses_a_foreign_next_address(client: Client) -> None:
    answer = client.post(
        reverse("language_set"), {"language": "es", "next": "https://evil.example/"}
    )
    assert answer["Location"] == reverse("home")


@pytest.mark.django_db
def test_the_switch_stores_the_language_on_the_patients_account(
    client: Client, patient: User
) -> None:
    client.force_login(patient)
    client.post(reverse("language_set"), {"language": "es", "next": reverse("intake:home")})
    patient.refresh_from_db()
    assert patient.language == "es"
    # The account's choice wins over the browser's, on another device too.
    other = Client()
    other.force_login(patient)
    page = other.get(reverse("intake:home"), headers={"accept-language": "en-US"})
    assert page.headers["Content-Language"] == "es"
    assert "Mi formulario" in page.text


@pytest.mark.django_db
def test_an_unknown_language_changes_nothing(client: Client, patient: User) -> None:
    client.force_login(patient)
    answer = client.post(reverse("language_set"), {"language": "fr", "next": "/"})
    assert answer.status_code == 302
    patient.refresh_from_db()
    assert patient.language == ""


def test_the_switch_answers_405_to_a_get(client: Client) -> None:
    assert client.get(reverse("language_set")).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("persona", ["physician", "front_desk", "clinic_admin"])
def test_staff_pages_stay_english_whatever_the_browser_or_cookie_says(
    client: Client, persona: str, request: pytest.FixtureRequest
) -> None:
    staff: User = request.getfixturevalue(persona)
    staff.language = "es"
    staff.save(update_fields=["language"])
    client.force_login(staff)
    client.cookies["django_language"] = "es"
    page = client.get(reverse("role_home"), follow=True, headers={"accept-language": "es"})
    assert page.status_code == 200
    assert page.headers["Content-Language"] == "en"
    assert '<html lang="en"' in page.text
    assert 'name="language"' not in page.text  # no switch on staff pages
    assert client.post(reverse("language_set"), {"language": "es"}).status_code == 403


@pytest.mark.django_db
def test_signing_up_in_spanish_keeps_spanish_for_the_account(client: Client) -> None:
    client.cookies["django_language"] = "es"
    client.post(
        reverse("intake:signup"),
        {
            "full_name": "Lucía Gómez",
            "email": "lucia@example.org",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    user = User.objects.get(email="lucia@example.org")
    assert user.language == "es"
    confirmation = OutboundEmail.objects.get(to=user.email)
    assert confirmation.subject.startswith("Confirme su correo electrónico")
    assert "Hola Lucía" in confirmation.body


@pytest.mark.django_db
def test_spanish_form_errors_and_dates(client: Client) -> None:
    client.cookies["django_language"] = "es"
    page = client.post(reverse("intake:signup"), {"full_name": " ", "email": "x"})
    assert "Corrija los" in page.text
    assert "Este campo es obligatorio." in page.text  # Django's own Spanish


# --- Messages in the patient's language ------------------------------------------------


@pytest.mark.django_db
def test_emails_follow_the_patients_stored_language_not_the_senders(
    django_capture_on_commit_callbacks: Any,
) -> None:
    spanish = patient_account_create(
        email="ana@example.org", full_name="Ana Ruiz", password=PASSWORD, language="es"
    )
    english = UserFactory.create(role=Role.PATIENT, full_name="Ed English")
    OutboundEmail.objects.all().delete()
    with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
        email_verification_send(user=spanish)
    with translation.override("es"), django_capture_on_commit_callbacks(execute=True):
        email_verification_send(user=english)
    to_ana, to_ed = (mail.outbox[-2], mail.outbox[-1])
    assert to_ana.subject.startswith("Confirme su correo electrónico")
    assert "Gracias por empezar su formulario" in to_ana.body
    assert to_ed.subject.startswith("Confirm your e-mail address")
    assert "Thank you for starting your intake" in to_ed.body


@pytest.mark.django_db
def test_the_intake_confirmation_is_in_spanish_for_a_spanish_speaking_patient(
    patient: User,
) -> None:
    patient.language = "es"
    patient.save(update_fields=["language"])
    case = submitted_case(patient)
    email = OutboundEmail.objects.get(to=patient.email, subject__contains=case.reference)
    assert email.subject == f"Recibimos su formulario (referencia {case.reference})"
    assert "Su número de referencia es" in email.body


# --- Data patients read -----------------------------------------------------------------


@pytest.mark.django_db
def test_the_shipped_questionnaires_are_in_spanish(patient: User) -> None:
    """Step 3's items and answers come from the instruments' data, with a Spanish
    column for each text (filled for the shipped instruments by a data migration)."""
    intake = Intake.objects.create(patient=patient)
    with translation.override("es"):
        form = STEPS[3].build(intake, None, None).main
        assert form is not None
        labels = [str(field.label) for field in form.fields.values()]
        answers = {str(label) for field in form.fields.values() for _, label in field.choices}  # type: ignore[attr-defined]
    assert "Caminar 15 minutos" in labels
    assert {"Ninguna dificultad", "No puedo hacerlo"} <= answers
    untranslated = [
        text
        for instrument in Instrument.objects.filter(is_active=True)
        for text in [
            instrument.name_es,
            *(item.text_es for item in instrument.items.all()),
            *(option.label_es for option in instrument.options.all()),
        ]
        if not text
    ]
    assert untranslated == []


@pytest.mark.django_db
def test_a_spanish_speaking_patient_signs_the_spanish_consent_and_it_is_recorded(
    patient: User,
) -> None:
    from intake import services

    intake = intake_ready_to_sign(patient)
    with translation.override("es"):
        consent = services.current_consent()
    assert consent.language == "es" and consent.body.startswith("Confirmo que")
    case = services.intake_submit(
        intake=intake, signature=signature_for(intake, consent_language="es")
    )
    intake = case.intake
    intake.refresh_from_db()
    assert intake.consent == consent
    assert (intake.consent.version, intake.consent_language) == (consent.version, "es")
    assert intake.consent_sha256 == ConsentDocument.digest(consent.body)


@pytest.mark.django_db
def test_a_signature_of_another_languages_text_is_refused(patient: User) -> None:
    from intake import services

    intake = intake_ready_to_sign(patient)
    spanish = services.current_consent(language="es")
    ConsentDocument.objects.filter(pk=spanish.pk).update(is_current=False)
    # The Spanish text is withdrawn meanwhile: English is offered, so a signature of
    # the Spanish text is refused rather than recorded against the English.
    with pytest.raises(ClinicError):
        services.intake_submit(
            intake=intake, signature=signature_for(intake, consent_language="es")
        )


@pytest.mark.django_db
def test_a_translation_of_an_older_version_is_never_offered() -> None:
    from intake import services

    services.consent_publish(version="2099-01", title="New", body="New English text.")
    assert services.current_consent(language="es").language == "en"


@pytest.mark.django_db
def test_the_review_step_shows_the_spanish_consent(client: Client, patient: User) -> None:
    patient.language = "es"
    patient.save(update_fields=["language"])
    intake = intake_ready_to_sign(patient)
    client.force_login(patient)
    page = client.get(reverse("intake:step", args=[intake.public_id, 8]))
    assert "Confirmo que lo que he escrito" in page.text
    assert 'name="consent_language" value="es"' in page.text


@pytest.mark.django_db
def test_the_screening_questions_and_red_flag_advice_are_in_spanish(patient: User) -> None:
    from intake.selectors import red_flag_advice
    from treatments.models import Contraindication, RedFlag

    assert not Contraindication.objects.filter(is_active=True, screening_question_es="").exists()
    assert not RedFlag.objects.filter(is_active=True, screening_question_es="").exists()
    assert not RedFlag.objects.filter(is_active=True, patient_advice_es="").exists()
    stroke = "sudden-weakness-face-arm-leg-speech"
    case = submitted_case(patient, symptoms={stroke: "yes"})
    with translation.override("es"):
        advice = red_flag_advice(case.intake)
    assert any("Llame al 911 ahora" in text for text in advice)
    with translation.override("en"):
        assert any("Call 911 now" in text for text in red_flag_advice(case.intake))


@pytest.mark.django_db
def test_body_regions_and_conditions_are_named_in_spanish(patient: User) -> None:
    from treatments.models import BodyRegion, Condition

    assert not BodyRegion.objects.filter(name_es="").exists()
    assert not Condition.objects.filter(is_active=True, name_es="").exists()
    intake = Intake.objects.create(patient=patient)
    with translation.override("es"):
        formset = STEPS[2].build(intake, None, None).formset
        assert formset is not None
        regions = [str(label) for _, label in formset.forms[0].fields["body_region"].choices]
    assert "Rodilla" in regions and "Knee" not in regions


@pytest.mark.django_db
def test_the_patients_intake_page_names_the_painful_area_in_spanish(
    client: Client, patient: User
) -> None:
    """The side and the region in Spanish word order, and the condition's Spanish name
    (they read "izquierda knee" and the English condition)."""
    case = submitted_case(patient)
    from treatments.models import Condition

    complaint = case.intake.complaints.select_related("body_region").first()
    assert complaint is not None
    complaint.side = "left"
    complaint.condition = Condition.objects.filter(body_region=complaint.body_region).first()
    assert complaint.condition is not None
    complaint.save(update_fields=["side", "condition"])
    patient.language = "es"
    patient.save(update_fields=["language"])
    client.force_login(patient)
    page = client.get(reverse("intake:detail", args=[case.intake.public_id])).content.decode()
    region = complaint.body_region.name_es
    assert f"{region} (lado izquierdo)" in page
    assert f": {complaint.condition.name_es}" in page
    with translation.override("en"):
        assert str(complaint) == f"Left {complaint.body_region.name.lower()}"


# --- Staff see the patient's language ---------------------------------------------------


@pytest.mark.django_db
def test_staff_see_that_a_patient_prefers_spanish(
    client: Client, patient: User, physician: User
) -> None:
    patient.language = "es"
    patient.save(update_fields=["language"])
    case = submitted_case(patient)
    client.force_login(physician)
    page = client.get(reverse("review:case", args=[case.public_id]))
    assert page.status_code == 200
    assert "prefers Spanish" in page.text
