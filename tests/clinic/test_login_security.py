"""Login and sessions: the second factor for staff, lockout after failed logins,
idle and absolute session limits, and what logging out or deactivating ends."""

import time
from typing import Any

import django_otp
import pytest
from axes.models import AccessAttempt
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.models import Session
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic import two_factor
from clinic.middleware import LAST_SEEN, SIGNED_IN_AT
from clinic.models import User
from tests.concurrency import race
from tests.conftest import ClinicClient, current_code, second_factor_device
from tests.factories import PASSWORD, PhysicianFactory, UserFactory, submitted_case

STAFF = ["physician", "front_desk", "clinic_admin"]
HOME = {"physician": "/review/", "front_desk": "/frontdesk/", "clinic_admin": "/admin/"}


def password_login(client: ClinicClient, user: User, **extra: Any) -> Any:
    return client.post(reverse("login"), {"username": user.email, "password": PASSWORD}, **extra)


# --- The second factor ---------------------------------------------------------------------


@pytest.mark.parametrize("persona", STAFF)
def test_staff_set_up_an_authenticator_before_any_page_opens(client, request, persona):
    user = request.getfixturevalue(persona)
    password_login(client, user)

    # Their home page sends them to set up the app first.
    response = client.get(HOME[persona])
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("two_factor_setup"))
    page = client.get(response["Location"])
    body = page.content.decode()
    assert "<svg" in body and 'id="totp-secret"' in body

    device = TOTPDevice.objects.get(user=user, confirmed=False)
    wrong = client.post(reverse("two_factor_setup"), {"code": "000000", "next": HOME[persona]})
    assert wrong.status_code == 200
    assert "That code did not match" in wrong.content.decode()
    # django-otp slows repeated failures down; this test does not wait for it.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)

    done = client.post(
        reverse("two_factor_setup"), {"code": current_code(device), "next": HOME[persona]}
    )
    assert done.status_code == 302
    recovery = client.get(done["Location"])
    assert recovery.content.decode().count('<li class="col">') == two_factor.RECOVERY_CODE_COUNT
    assert client.get(HOME[persona]).status_code == 200
    device.refresh_from_db()
    assert device.confirmed


def test_the_recovery_codes_are_shown_once(client, physician):
    client.password_only_login(physician)
    device = two_factor.authenticator_pending(physician)
    client.post(reverse("two_factor_setup"), {"code": current_code(device)})
    first = client.get(reverse("two_factor_recovery")).content.decode()
    again = client.get(reverse("two_factor_recovery")).content.decode()
    assert first.count('<li class="col">') == 10
    assert '<li class="col">' not in again and "10</strong> unused recovery codes" in again


def test_setup_opened_in_two_tabs_accepts_the_code_of_either(client, physician):
    """Two tabs opened at once can each create a pending authenticator (and show its
    QR code); the code from whichever one the phone scanned confirms it, and the
    other pending one is removed."""
    client.password_only_login(physician)
    first = TOTPDevice.objects.create(user=physician, name="a", confirmed=False)
    scanned = TOTPDevice.objects.create(user=physician, name="b", confirmed=False)
    done = client.post(reverse("two_factor_setup"), {"code": current_code(scanned)})
    assert done.status_code == 302
    assert list(TOTPDevice.objects.filter(user=physician).values_list("pk", "confirmed")) == [
        (scanned.pk, True)
    ]
    assert not TOTPDevice.objects.filter(pk=first.pk).exists()


def test_staff_with_an_authenticator_give_a_code_and_go_where_they_were_going(
    client, physician, patient
):
    case = submitted_case(patient)
    device = second_factor_device(physician)
    password_login(client, physician)
    wanted = reverse("review:case", args=[case.public_id])
    response = client.get(wanted)
    assert response.status_code == 302
    assert (
        response["Location"] == f"{reverse('two_factor_verify')}?next={wanted.replace('/', '%2F')}"
    )

    wrong = client.post(reverse("two_factor_verify"), {"code": "123456", "next": wanted})
    assert "That code did not work" in wrong.content.decode()
    # django-otp slows repeated failures down; this test does not wait for it.
    TOTPDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)

    right = client.post(
        reverse("two_factor_verify"), {"code": current_code(device), "next": wanted}
    )
    assert right.status_code == 302 and right["Location"] == wanted
    assert client.get(wanted).status_code == 200


def test_a_code_is_never_sent_on_to_another_site(client, physician):
    device = second_factor_device(physician)
    client.password_only_login(physician)
    response = client.post(
        reverse("two_factor_verify"),
        {"code": current_code(device), "next": "https://evil.example/steal"},
    )
    assert response.status_code == 302 and response["Location"] == "/review/"


def test_without_the_second_factor_no_staff_page_opens(client, physician, front_desk):
    second_factor_device(physician)
    for user, pages in [
        (physician, ["review:queue", "review:calendar", "audit_log", "admin:index"]),
        (front_desk, ["frontdesk:home", "frontdesk:day", "frontdesk:incomplete"]),
    ]:
        client.password_only_login(user)
        for name in pages:
            response = client.get(reverse(name))
            assert response.status_code == 302, name
            assert response["Location"].startswith("/accounts/two-factor/"), name
        # Actions are refused the same way, without doing anything.
        assert client.post(reverse("review:next")).status_code == 302


def test_patients_sign_in_with_their_password_only(client, patient):
    password_login(client, patient)
    assert client.get(reverse("intake:home")).status_code == 200
    assert client.get(reverse("two_factor_setup")).status_code == 403


def test_a_recovery_code_works_once(client, physician):
    second_factor_device(physician)
    codes = two_factor.recovery_codes_renew(user=physician)
    client.password_only_login(physician)
    used = client.post(reverse("two_factor_verify"), {"code": codes[0].upper()})
    assert used.status_code == 302
    assert StaticToken.objects.filter(device__user=physician).count() == 9

    other = ClinicClient()
    other.password_only_login(physician)
    again = other.post(reverse("two_factor_verify"), {"code": codes[0]})
    assert again.status_code == 200 and "That code did not work" in again.content.decode()


def test_new_recovery_codes_replace_the_old_ones(physician):
    old = two_factor.recovery_codes_renew(user=physician)
    new = two_factor.recovery_codes_renew(user=physician)
    second_factor_device(physician)
    assert two_factor.second_factor_verify(user=physician, token=old[0]) is None
    # django-otp slows repeated failures down; this test does not wait for it.
    StaticDevice.objects.filter(user=physician).update(throttling_failure_count=0)
    TOTPDevice.objects.filter(user=physician).update(throttling_failure_count=0)
    assert two_factor.second_factor_verify(user=physician, token=new[0]) is not None


@pytest.mark.django_db(transaction=True)
def test_one_code_sent_in_eight_parallel_requests_works_once():
    physician = PhysicianFactory.create().user
    device = second_factor_device(physician)
    code = current_code(device)

    def verify(_: int) -> object:
        return two_factor.second_factor_verify(user=physician, token=code)

    results = race(verify, n=8)
    accepted = [result for result in results if isinstance(result, TOTPDevice)]
    assert len(accepted) == 1, results
    assert all(result is None for result in results if result not in accepted), results


@pytest.mark.django_db(transaction=True)
def test_one_recovery_code_in_eight_parallel_requests_works_once():
    physician = PhysicianFactory.create().user
    second_factor_device(physician)
    code = two_factor.recovery_codes_renew(user=physician)[0]

    results = race(lambda _: two_factor.second_factor_verify(user=physician, token=code), n=8)
    assert len([result for result in results if result is not None]) == 1, results


@pytest.mark.django_db(transaction=True)
def test_two_tabs_confirming_their_own_authenticators_at_once_leave_exactly_one(monkeypatch):
    """Each tab's code confirms its own pending device; if both land together, one
    wins and the other is refused, never leaving the person with no authenticator.
    Each code check is slowed down so that both requests are past it together."""
    verify_token = django_otp.verify_token

    def slow_verify(*args: Any) -> Any:
        verified = verify_token(*args)
        time.sleep(0.3)
        return verified

    monkeypatch.setattr(django_otp, "verify_token", slow_verify)
    physician = PhysicianFactory.create().user
    devices = [
        TOTPDevice.objects.create(user=physician, name=f"tab {n}", confirmed=False)
        for n in range(2)
    ]
    codes = [current_code(device) for device in devices]

    results = race(lambda n: two_factor.authenticator_confirm(user=physician, token=codes[n]))
    assert len([result for result in results if isinstance(result, list)]) == 1, results
    assert all(result is None or isinstance(result, list) for result in results), results
    assert TOTPDevice.objects.filter(user=physician, confirmed=True).count() == 1
    assert not TOTPDevice.objects.filter(user=physician, confirmed=False).exists()


# --- Lockout ---------------------------------------------------------------------------------


def test_an_account_is_locked_after_five_failures_even_from_new_addresses(client, patient):
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": patient.email, "password": "wrong"},
            REMOTE_ADDR=f"10.0.0.{n + 1}",
        )
    locked = password_login(client, patient, REMOTE_ADDR="10.0.9.9")
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert SESSION_KEY not in client.session


def test_an_address_is_locked_after_five_failures_whatever_the_accounts(client, patient):
    for n in range(5):
        client.post(reverse("login"), {"username": f"guess{n}@clinic.example", "password": "wrong"})
    assert password_login(client, patient).status_code == 429


def test_a_forged_forwarded_for_header_does_not_reset_the_count(client, patient, settings):
    # Behind our proxy, only the right-most address (the one the proxy saw) counts.
    settings.CLIENT_IP_HEADER = "HTTP_X_FORWARDED_FOR"
    for n in range(5):
        client.post(
            reverse("login"),
            {"username": f"guess{n}@clinic.example", "password": "wrong"},
            HTTP_X_FORWARDED_FOR=f"198.51.100.{n}, 203.0.113.7",
        )
    forged = password_login(client, patient, HTTP_X_FORWARDED_FOR="192.0.2.1, 203.0.113.7")
    assert forged.status_code == 429


def test_the_admin_login_is_locked_too(client, clinic_admin):
    for _ in range(5):
        client.post(reverse("admin:login"), {"username": clinic_admin.email, "password": "x"})
    response = client.post(
        reverse("admin:login"), {"username": clinic_admin.email, "password": PASSWORD}
    )
    assert response.status_code == 429


LOGIN_FORMS = ["login", "admin:login"]


@pytest.mark.parametrize("form", LOGIN_FORMS)
def test_spelling_the_address_differently_does_not_dodge_the_lockout(client, clinic_admin, form):
    """The lookup ignores case and surrounding spaces, so the count does too: five
    failures under five spellings, each from its own address, lock the account."""
    local, domain = clinic_admin.email.split("@")
    spellings = [
        clinic_admin.email.upper(),
        local.capitalize() + "@" + domain,
        f"  {clinic_admin.email}",
        f"{clinic_admin.email}  ",
        local.swapcase() + "@" + domain.upper(),
    ]
    statuses = [
        client.post(
            reverse(form),
            {"username": spelling, "password": "wrong"},
            REMOTE_ADDR=f"10.0.1.{n + 1}",
        ).status_code
        for n, spelling in enumerate(spellings)
    ]
    # The fifth failure is the one that pauses the account.
    assert statuses == [200, 200, 200, 200, 429]
    right = client.post(
        reverse(form),
        {"username": clinic_admin.email, "password": PASSWORD},
        REMOTE_ADDR="10.0.1.99",
    )
    assert right.status_code == 429
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("form", LOGIN_FORMS)
@pytest.mark.parametrize(
    "spelling", ["ADA@CLINIC.EXAMPLE", " ada@clinic.example", "Ada@Clinic.Example "]
)
def test_a_locked_account_stays_locked_under_another_spelling(client, db, form, spelling):
    admin = UserFactory.create(
        role="clinic_admin", email="ada@clinic.example", full_name="Ada Admin", is_staff=True
    )
    for n in range(5):
        client.post(
            reverse(form),
            {"username": admin.email, "password": "wrong"},
            REMOTE_ADDR=f"10.0.2.{n + 1}",
        )
    response = client.post(
        reverse(form), {"username": spelling, "password": PASSWORD}, REMOTE_ADDR="10.0.2.99"
    )
    assert response.status_code == 429
    assert SESSION_KEY not in client.session


@pytest.mark.parametrize("form", LOGIN_FORMS)
def test_an_overlong_address_is_refused_on_the_form_and_still_counts(client, clinic_admin, form):
    """django-axes keeps at most 255 characters of a username: a longer one used to
    fail to save (a 500, uncounted). It is refused by the form, and counted."""
    overlong = "x" * 300 + "@clinic.example"
    for n in range(5):
        response = client.post(reverse(form), {"username": overlong, "password": "wrong"})
        # The fifth failure is the one that pauses the address.
        assert response.status_code == (429 if n == 4 else 200)
        if n < 4:
            assert "at most 254 characters" in response.content.decode()
    assert AccessAttempt.objects.get().failures_since_start == 5
    assert len(AccessAttempt.objects.get().username) <= 255
    # The address is now paused, as after any five failures.
    locked = client.post(reverse(form), {"username": clinic_admin.email, "password": PASSWORD})
    assert locked.status_code == 429


def test_an_overlong_address_from_a_paused_address_is_refused_as_paused(client, patient):
    for n in range(5):
        client.post(reverse("login"), {"username": f"guess{n}@clinic.example", "password": "x"})
    response = client.post(reverse("login"), {"username": "y" * 400, "password": "x"})
    assert response.status_code == 429


def test_a_successful_login_clears_earlier_failures(client, patient):
    for _ in range(4):
        client.post(reverse("login"), {"username": patient.email, "password": "wrong"})
    assert password_login(client, patient).status_code == 302
    client.logout()
    for _ in range(4):
        client.post(reverse("login"), {"username": patient.email, "password": "wrong"})
    assert password_login(client, patient).status_code == 302


# --- Sessions --------------------------------------------------------------------------------


def age_session(client: ClinicClient, *, idle_minutes: float = 0, signed_in_hours: float = 0):
    session = client.session
    now = time.time()
    session[LAST_SEEN] = now - idle_minutes * 60
    session[SIGNED_IN_AT] = now - max(signed_in_hours * 3600, idle_minutes * 60)
    session.save()


@pytest.mark.parametrize(
    ("persona", "url_name", "limit"),
    [
        ("physician", "review:queue", 15),
        ("front_desk", "frontdesk:home", 15),
        ("patient", "intake:home", 30),
    ],
)
def test_a_session_ends_after_its_idle_limit(client, request, persona, url_name, limit):
    client.force_login(request.getfixturevalue(persona))
    age_session(client, idle_minutes=limit - 1)
    assert client.get(reverse(url_name)).status_code == 200

    age_session(client, idle_minutes=limit + 0.5)
    response = client.get(reverse(url_name))
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={reverse(url_name)}"
    follow = client.get(response["Location"])
    assert "signed out after a while without activity" in follow.content.decode()
    assert SESSION_KEY not in client.session


def test_activity_keeps_the_session_open(client, physician, settings):
    settings.SESSION_ACTIVITY_SECONDS = 30
    client.force_login(physician)
    age_session(client, idle_minutes=14)
    assert client.get(reverse("review:queue")).status_code == 200  # counts as activity
    assert time.time() - client.session[LAST_SEEN] < 5


def test_every_session_ends_after_twelve_hours(client, physician):
    client.force_login(physician)
    age_session(client, signed_in_hours=12.01)
    response = client.get(reverse("review:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    follow = client.get(response["Location"])
    assert "reached its time limit" in follow.content.decode()


def test_the_status_check_does_not_count_as_activity_and_stay_signed_in_does(
    client, physician, settings
):
    settings.SESSION_ACTIVITY_SECONDS = 1
    client.force_login(physician)
    age_session(client, idle_minutes=10)
    status = client.get(reverse("session")).json()
    assert status["signed_in"] and 4 * 60 < status["seconds_left"] <= 5 * 60

    kept = client.post(reverse("session")).json()
    assert 14 * 60 < kept["seconds_left"] <= 15 * 60

    age_session(client, idle_minutes=16)
    assert client.get(reverse("session")).json() == {"signed_in": False, "seconds_left": 0}
    assert SESSION_KEY not in client.session


def test_the_page_carries_the_time_left_for_its_warning(client, patient):
    client.force_login(patient)
    body = client.get(reverse("intake:home")).content.decode()
    assert 'id="session-warning"' in body
    assert 'data-seconds-left="1800"' in body or 'data-seconds-left="1799"' in body


def test_the_session_key_changes_at_login(client, patient):
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    password_login(client, patient)
    assert client.session.session_key != before


def test_logging_out_ends_the_session_on_the_server(client, patient):
    password_login(client, patient)
    key = client.session.session_key
    client.post(reverse("logout"))
    assert not Session.objects.filter(session_key=key).exists()

    replay = ClinicClient()
    replay.cookies["sessionid"] = key
    assert replay.get(reverse("intake:home")).status_code == 302


def test_deactivating_an_account_ends_its_sessions(client, physician):
    client.force_login(physician)
    assert client.get(reverse("review:queue")).status_code == 200
    User.objects.filter(pk=physician.pk).update(is_active=False)
    response = client.get(reverse("review:queue"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_password_change_ends_other_sessions(client, patient):
    client.force_login(patient)
    patient.set_password("another-long-password-2026")
    patient.save()
    assert client.get(reverse("intake:home")).status_code == 302


def test_long_passphrases_are_welcome(client, db):
    passphrase = "correct horse battery staple " * 3  # 87 characters
    user = UserFactory.create(role="patient")
    user.set_password(passphrase)
    user.save()
    response = client.post(reverse("login"), {"username": user.email, "password": passphrase})
    assert response.status_code == 302
    assert len(passphrase) >= 64


def test_admins_reset_a_lost_authenticator_and_unlock_a_paused_login(
    client, clinic_admin, physician
):
    second_factor_device(physician)
    for _ in range(5):
        ClinicClient().post(reverse("login"), {"username": physician.email, "password": "wrong"})
    client.force_login(clinic_admin)
    changelist = reverse("admin:clinic_user_changelist")
    for action in ("reset_two_factor", "unlock_logins"):
        response = client.post(
            changelist, {"action": action, "_selected_action": [physician.pk]}, follow=True
        )
        assert response.status_code == 200
    assert not TOTPDevice.objects.filter(user=physician).exists()
    other = ClinicClient()
    assert password_login(other, physician).status_code == 302
    assert other.get(reverse("review:queue"))["Location"].startswith(reverse("two_factor_setup"))


def test_after_a_wrong_code_the_page_says_to_wait_instead_of_wrong(client, physician):
    device = second_factor_device(physician)
    client.password_only_login(physician)
    client.post(reverse("two_factor_verify"), {"code": "000000"})
    response = client.post(reverse("two_factor_verify"), {"code": current_code(device)})
    assert "Too many wrong codes: please wait" in response.content.decode()
    assert not client.session.get("otp_device_id")


def test_staff_see_no_menu_before_their_second_factor(client, physician):
    second_factor_device(physician)
    client.password_only_login(physician)
    body = client.get(reverse("two_factor_verify")).content.decode()
    assert "Review queue" not in body and "Log out" in body
