import re

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse

from clinic.models import OutboundEmail
from clinic.roles import GROUP_NAMES, Role, role_members
from clinic.two_factor import second_factor_required
from tests.conftest import current_code, second_factor_device
from tests.factories import PASSWORD, PhysicianFactory, UserFactory

ROLE_PAGES = {
    "patient": "/intake/",
    "physician": "/review/",
    "front_desk": "/frontdesk/",
    "clinic_admin": "/admin/",
}


@pytest.mark.parametrize("persona", list(ROLE_PAGES))
def test_each_role_lands_on_its_own_page_after_login(client, request, persona):
    user = request.getfixturevalue(persona)
    device = second_factor_device(user) if second_factor_required(user) else None
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    home = response["Location"]
    if device is not None:  # staff confirm a code first, then go on to their page
        asked = client.get(home)
        assert asked["Location"].startswith(reverse("two_factor_verify"))
        code = {"code": current_code(device), "next": home}
        assert client.post(reverse("two_factor_verify"), code)["Location"] == home
    response = client.get(home)
    assert response.status_code == 302
    assert response["Location"] == ROLE_PAGES[persona]
    assert client.get(ROLE_PAGES[persona]).status_code == 200


def test_login_ignores_the_case_of_the_email(client, patient):
    response = client.post(
        reverse("login"), {"username": patient.email.upper(), "password": PASSWORD}
    )
    assert response.status_code == 302


def test_wrong_password_shows_a_message_and_keeps_the_email(client, patient):
    response = client.post(reverse("login"), {"username": patient.email, "password": "nope"})
    assert response.status_code == 200
    assert "That e-mail address and password do not match" in response.content.decode()
    assert f'value="{patient.email}"' in response.content.decode()


@pytest.mark.parametrize("url", ["/intake/", "/review/", "/frontdesk/"])
def test_visitors_are_sent_to_login(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('login')}?next={url}")


@pytest.mark.parametrize(
    ("persona", "url"),
    [
        ("patient", "/review/"),
        ("patient", "/frontdesk/"),
        ("physician", "/intake/"),
        ("physician", "/frontdesk/"),
        ("front_desk", "/review/"),
        ("front_desk", "/intake/"),
        ("clinic_admin", "/review/"),
        ("other_patient", "/frontdesk/"),
    ],
)
def test_other_roles_get_403_on_a_role_page(login, request, persona, url):
    client = login(request.getfixturevalue(persona))
    response = client.get(url)
    assert response.status_code == 403
    assert "not available to you" in response.content.decode()


@pytest.mark.parametrize("persona", ["patient", "physician", "front_desk"])
def test_only_clinic_admins_open_the_admin(login, request, persona):
    response = login(request.getfixturevalue(persona)).get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize(
    ("persona", "url"),
    [("patient", "/intake/"), ("physician", "/review/"), ("front_desk", "/frontdesk/")],
)
def test_role_pages_refuse_post(login, request, persona, url):
    assert login(request.getfixturevalue(persona)).post(url).status_code == 405


def test_account_without_a_role_gets_a_clear_403(login, db):
    response = login(UserFactory()).get(reverse("role_home"))
    assert response.status_code == 403


def test_logout_is_post_only_and_ends_the_session(login, patient):
    client = login(patient)
    assert client.get(reverse("logout")).status_code == 405
    client.post(reverse("logout"))
    assert client.get("/intake/").status_code == 302


def test_password_reset_does_not_reveal_whether_an_account_exists(
    client, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post(reverse("password_reset"), {"email": patient.email})
    unknown = client.post(reverse("password_reset"), {"email": "nobody@clinic.example"})
    assert known.status_code == unknown.status_code == 302
    assert known["Location"] == unknown["Location"]
    assert [message.to for message in mail.outbox] == [[patient.email]]


def test_password_reset_link_is_delivered_through_the_outbox_and_works_once(
    client, patient, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": patient.email})
    outbox_row = OutboundEmail.objects.get(to=patient.email)
    assert outbox_row.sent_at is not None
    assert outbox_row.body == "", "the one-time link is not kept once sent"

    link = re.search(r"http://testserver(/accounts/reset/\S+)", str(mail.outbox[0].body))
    assert link is not None
    form_page = client.get(link.group(1), follow=True)
    new_password = "a-much-better-password-2026"
    done = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": new_password, "new_password2": new_password},
    )
    assert done.status_code == 302
    assert client.login(username=patient.email, password=new_password)

    client.logout()
    again = client.get(link.group(1), follow=True)
    assert "This link no longer works" in again.content.decode()


def test_role_members_are_the_active_accounts_in_the_role(physician, patient, front_desk):
    retired = PhysicianFactory.create().user
    retired.is_active = False
    retired.save(update_fields=["is_active"])
    assert list(role_members(Role.PHYSICIAN)) == [physician]
    assert list(role_members(Role.FRONT_DESK)) == [front_desk]
    Group.objects.filter(name=GROUP_NAMES[Role.CLINIC_ADMIN]).delete()
    assert list(role_members(Role.CLINIC_ADMIN)) == []  # never "everyone with no group"


def test_a_removed_role_or_a_deactivated_account_counts_on_the_next_request(login, physician):
    """The account and its role are read from the database on every request (no
    cache of either), so taking a role away or deactivating an account needs no
    sign-out."""
    client = login(physician)
    queue = reverse("review:queue")
    assert client.get(queue).status_code == 200
    physician.groups.clear()
    assert client.get(queue).status_code == 403
    physician.groups.add(Group.objects.get(name=GROUP_NAMES[Role.PHYSICIAN]))
    assert client.get(queue).status_code == 200
    physician.is_active = False
    physician.save(update_fields=["is_active"])
    assert client.get(queue).status_code == 302  # signed out: to the login page
