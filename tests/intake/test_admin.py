"""The clinic admin edits questionnaires and publishes consent texts; cases and
intakes are not in the admin (tests/test_access_matrix.py pins what is)."""

import pytest
from django.urls import reverse

from intake.models import ConsentDocument, Instrument

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("root@clinic.example", "x-password-123")
    client.force_login(admin)
    return client


def test_the_intake_pages_of_the_admin_open(admin_client):
    for url in (
        reverse("admin:intake_instrument_changelist"),
        reverse(
            "admin:intake_instrument_change", args=[Instrument.objects.get(slug="pain-nrs").pk]
        ),
        reverse("admin:intake_consentdocument_changelist"),
    ):
        assert admin_client.get(url).status_code == 200, url


def test_publishing_a_consent_text_in_the_admin_makes_it_current(admin_client):
    before = ConsentDocument.objects.count()
    response = admin_client.post(
        reverse("admin:intake_consentdocument_add"),
        {
            "version": "2027-02",
            "language": "en",
            "title": "Consent",
            "body": "Updated consent text.",
        },
    )
    assert response.status_code == 302
    current = ConsentDocument.objects.get(is_current=True, language="en")
    assert (current.version, current.sha256) == (
        "2027-02",
        ConsentDocument.digest("Updated consent text."),
    )
    assert ConsentDocument.objects.count() == before + 1
