import smtplib

import pytest
from django.core import mail
from django.db import transaction

from clinic.errors import ClinicError
from clinic.models import OutboundEmail, User
from clinic.roles import Role, role_of
from clinic.services import email_deliver, email_queue, physician_profile_set, user_create


def queue_test_email(to: str = "pat@clinic.example") -> OutboundEmail:
    return email_queue(
        to=to,
        subject="Your intake was received",
        template="registration/password_reset_subject.txt",
        context={"CLINIC_NAME": "Test Clinic"},
    )


def test_email_is_sent_only_after_the_transaction_commits(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        email = queue_test_email()
        assert mail.outbox == []
    assert len(callbacks) == 1
    email.refresh_from_db()
    assert email.sent_at is not None
    assert [message.subject for message in mail.outbox] == ["Your intake was received"]


def test_a_long_composed_subject_is_shortened_not_a_failed_change(db, settings):
    # Subjects carry the clinic's name from the settings, which can be any length.
    settings.CLINIC_NAME = "The Regenerative Medicine and Orthobiologics Center " * 5
    email = email_queue(
        to="pat@clinic.example",
        subject=f"Your intake for {settings.CLINIC_NAME} is waiting for you",
        template="registration/password_reset_subject.txt",
        context={},
    )
    email.refresh_from_db()
    assert len(email.subject) == 200 and email.subject.endswith("…")
    assert email.subject.startswith("Your intake for The Regenerative Medicine")


def test_a_rolled_back_change_sends_nothing(db, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        queue_test_email()
        raise RuntimeError("the change failed")
    assert mail.outbox == []
    assert not OutboundEmail.objects.exists()


def test_delivering_twice_sends_once(db):
    email = queue_test_email()
    assert email_deliver(email_id=email.pk) is True
    assert email_deliver(email_id=email.pk) is False
    assert len(mail.outbox) == 1
    email.refresh_from_db()
    assert email.attempts == 1
    assert email.body == ""


def test_a_transient_failure_is_recorded_and_raised_for_retry(db, monkeypatch):
    email = queue_test_email()

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(smtplib.SMTPServerDisconnected):
        email_deliver(email_id=email.pk)
    email.refresh_from_db()
    assert (email.attempts, email.sent_at, email.last_error) == (1, None, "SMTPServerDisconnected")
    assert email.body != ""


def test_delivering_a_missing_email_does_nothing(db):
    assert email_deliver(email_id=987654) is False


def test_user_create_puts_the_account_in_exactly_one_role(db):
    user = user_create(email=" New@Clinic.Example ", full_name="New Person", role=Role.FRONT_DESK)
    assert user.email == "new@clinic.example"
    assert list(user.groups.values_list("name", flat=True)) == ["Front desk"]
    assert role_of(user) == Role.FRONT_DESK
    assert not user.is_staff
    assert not user.has_usable_password()


def test_user_create_refuses_a_second_account_for_the_same_email(db):
    user_create(email="twice@clinic.example", full_name="One", role=Role.PATIENT)
    with pytest.raises(ClinicError, match="already uses"):
        user_create(email="TWICE@clinic.example", full_name="Two", role=Role.PATIENT)


def test_user_create_turns_a_lost_race_into_a_clear_error(db, monkeypatch):
    user_create(email="race@clinic.example", full_name="First", role=Role.PATIENT)
    # The second request passed its existence check before the first one committed.
    monkeypatch.setattr("clinic.services.User.objects.filter", lambda **kw: User.objects.none())
    with pytest.raises(ClinicError, match="already uses"):
        user_create(email="Race@clinic.example", full_name="Second", role=Role.PATIENT)
    monkeypatch.undo()
    assert User.objects.filter(email__iexact="race@clinic.example").count() == 1


def test_clinic_admins_may_use_the_admin_site(db):
    assert user_create(email="a@clinic.example", full_name="A", role=Role.CLINIC_ADMIN).is_staff


def test_physician_profile_refuses_an_unknown_region(physician):
    with pytest.raises(ClinicError, match="Unknown body region: elbowz"):
        physician_profile_set(user=physician, display_name="Dr X", region_slugs=["elbowz"])


def test_physician_profile_sets_regions(physician):
    profile = physician_profile_set(
        user=physician, display_name="Dr X", region_slugs=["elbow", "shoulder"]
    )
    assert sorted(profile.body_regions.values_list("slug", flat=True)) == ["elbow", "shoulder"]


@pytest.mark.parametrize(
    ("header", "meta", "expected"),
    [
        ("", {"REMOTE_ADDR": "198.51.100.7"}, "198.51.100.7"),
        ("", {"REMOTE_ADDR": "not an address"}, None),
        (
            "HTTP_X_FORWARDED_FOR",
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "1.2.3.4, 203.0.113.5"},
            "203.0.113.5",
        ),
        (
            "HTTP_X_FORWARDED_FOR",
            {"REMOTE_ADDR": "10.0.0.2", "HTTP_X_FORWARDED_FOR": "<script>"},
            "10.0.0.2",
        ),
        ("HTTP_X_FORWARDED_FOR", {"REMOTE_ADDR": "10.0.0.2"}, "10.0.0.2"),
    ],
)
def test_the_client_address_is_read_only_from_trusted_places(rf, settings, header, meta, expected):
    from clinic.access import client_ip

    settings.CLIENT_IP_HEADER = header
    request = rf.get("/")
    request.META.update(meta)
    assert client_ip(request) == expected
