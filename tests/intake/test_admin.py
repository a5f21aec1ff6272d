"""The clinic admin edits questionnaires and publishes consent texts; cases and
intakes are read-only in the admin."""

import pytest
from django.urls import reverse

from intake.models import Case, ConsentDocument, Instrument, Intake
from tests.factories import intake_ready_to_sign, signature_for, submitted_case

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root@clinic.example", "x-password-123")
    client.force_login(admin)
    return client


def test_the_intake_pages_of_the_admin_open(admin_client, patient):
    from intake import services

    intake = intake_ready_to_sign(patient)
    case = services.intake_submit(intake=intake, signature=signature_for(intake))
    for url in (
        reverse("admin:intake_instrument_changelist"),
        reverse(
            "admin:intake_instrument_change", args=[Instrument.objects.get(slug="pain-nrs").pk]
        ),
        reverse("admin:intake_consentdocument_changelist"),
        reverse("admin:intake_case_changelist"),
        reverse("admin:intake_case_change", args=[case.pk]),
        reverse("admin:intake_intake_change", args=[intake.pk]),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_publishing_a_consent_text_in_the_admin_makes_it_current(admin_client):
    response = admin_client.post(
        reverse("admin:intake_consentdocument_add"),
        {"version": "2027-02", "title": "Consent", "body": "Updated consent text."},
    )
    assert response.status_code == 302
    current = ConsentDocument.objects.get(is_current=True)
    assert (current.version, current.sha256) == (
        "2027-02",
        ConsentDocument.digest("Updated consent text."),
    )
    assert ConsentDocument.objects.count() == 2


# Patient records the admin shows and never changes: their changes go through the
# services, which check the rules and write the events.
READ_ONLY_IN_ADMIN = ["intake.case", "intake.intake"]


@pytest.mark.parametrize("label", READ_ONLY_IN_ADMIN)
def test_patient_records_in_the_admin_cannot_be_changed_added_or_deleted(
    admin_client, patient, physician, label
):
    from django.apps import apps
    from django.contrib import admin

    model = apps.get_model(label)
    assert model in admin.site._registry, f"{label} is no longer in the admin: drop its row"
    case = submitted_case(patient)
    record = case if model is Case else case.intake
    before = model._default_manager.filter(pk=record.pk).values().get()
    names = f"admin:{model._meta.app_label}_{model._meta.model_name}"
    change = reverse(f"{names}_change", args=[record.pk])

    page = admin_client.get(change)
    assert page.status_code == 200
    assert 'name="_save"' not in page.content.decode()

    # A change posted anyway (the fields the model has, with values that would matter).
    posted = {
        "state": Case.State.NOT_CANDIDATE,
        "priority": "1",
        "assigned_to": str(physician.pk),
        "status": Intake.Status.DRAFT,
        "legal_name": "Someone Else",
    }
    assert admin_client.post(change, posted).status_code == 403
    assert admin_client.get(reverse(f"{names}_add")).status_code == 403
    delete = reverse(f"{names}_delete", args=[record.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert model._default_manager.filter(pk=record.pk).values().get() == before
