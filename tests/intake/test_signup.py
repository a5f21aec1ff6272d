import re

import pytest
from django.core import mail
from django.urls import reverse

from clinic.models import User
from clinic.roles import Role, role_of
from tests.factories import PASSWORD

SIGNUP = {
    "full_name": "Nora New",
    "email": "Nora.New@Clinic.Example",
    "password1": "knee-pain-since-2019",
    "password2": "knee-pain-since-2019",
}


def confirmation_path() -> str:
    match = re.search(r"http://127\.0\.0\.1:8000(/accounts/verify/\S+)", str(mail.outbox[-1].body))
    assert match is not None, mail.outbox[-1].body
    return match.group(1)


def test_signup_creates_a_patient_logs_them_in_and_sends_a_confirmation(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("intake:signup"), SIGNUP)
    assert response.status_code == 302
    assert response["Location"] == reverse("intake:home")
    user = User.objects.get(email="nora.new@clinic.example")
    assert role_of(user) == Role.PATIENT
    assert user.email_verified_at is None
    assert not user.is_staff
    assert [message.to for message in mail.outbox] == [["nora.new@clinic.example"]]
    home = client.get(reverse("intake:home")).content.decode()
    assert "Please confirm your e-mail address" in home


def test_signup_ignores_fields_it_does_not_offer(client, db):
    client.post(
        reverse("intake:signup"),
        {**SIGNUP, "is_staff": "on", "is_superuser": "on", "groups": "1", "role": "physician"},
    )
    user = User.objects.get(email="nora.new@clinic.example")
    assert (user.is_staff, user.is_superuser, role_of(user)) == (False, False, Role.PATIENT)


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"password2": "something-else-entirely"}, "password2", "not the same"),
        ({"password1": "password", "password2": "password"}, "password1", "too common"),
        ({"email": "not-an-email"}, "email", "valid email"),
        ({"full_name": "   "}, "full_name", "This field is required"),
    ],
)
def test_signup_errors_are_shown_by_their_field_and_keep_what_was_typed(
    client, db, change, field, message
):
    response = client.post(reverse("intake:signup"), {**SIGNUP, **change})
    assert response.status_code == 200
    form = response.context["form"]
    assert message in " ".join(form.errors[field])
    page = response.content.decode()
    assert f'id="error_1_id_{field}"' in page, "the message is tied to its field"
    if field != "full_name":
        assert 'value="Nora New"' in page
    assert "Please correct the" in page
    assert not User.objects.filter(email__iexact=SIGNUP["email"]).exists()


def test_signup_with_an_email_already_in_use_says_so(client, patient):
    response = client.post(reverse("intake:signup"), {**SIGNUP, "email": patient.email.upper()})
    assert response.status_code == 200
    assert "An account already uses this e-mail address" in response.content.decode()
    assert User.objects.filter(email__iexact=patient.email).count() == 1


def test_signed_in_people_are_sent_to_their_own_page(login, patient):
    response = login(patient).get(reverse("intake:signup"))
    assert response.status_code == 302
    assert response["Location"] == reverse("role_home")


def test_signup_refuses_other_methods(client, db):
    assert client.put(reverse("intake:signup")).status_code == 405


def test_the_confirmation_link_needs_a_post_and_works_once(
    client, db, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("intake:signup"), SIGNUP)
    path = confirmation_path()
    user = User.objects.get(email="nora.new@clinic.example")

    assert client.get(path).status_code == 200
    user.refresh_from_db()
    assert user.email_verified_at is None, "opening the link alone confirms nothing"

    response = client.post(path)
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.email_verified_at is not None

    again = client.post(path)
    assert again.status_code == 200
    assert "no longer works" in again.content.decode()


@pytest.mark.parametrize(
    "path",
    ["/accounts/verify/MQ/bad-token/", "/accounts/verify/%%%/x-y/", "/accounts/verify/zz/1-2/"],
)
def test_a_broken_confirmation_link_gets_a_clear_page_not_an_error(client, db, path):
    response = client.post(path)
    assert response.status_code == 200
    assert "no longer works" in response.content.decode()


def test_resending_the_confirmation(login, patient, django_capture_on_commit_callbacks):
    client = login(patient)
    assert client.get(reverse("verify_email_resend")).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("verify_email_resend"))
    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [[patient.email]]


def test_resending_needs_a_login(client, db):
    response = client.post(reverse("verify_email_resend"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_new_patient_can_log_in_later_with_their_password(client, db):
    client.post(reverse("intake:signup"), SIGNUP)
    client.logout()
    assert client.login(username="nora.new@clinic.example", password=SIGNUP["password1"])
    assert not client.login(username="nora.new@clinic.example", password=PASSWORD)
