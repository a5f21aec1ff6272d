from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.templatetags.static import static
from django.urls import reverse

from clinic.roles import Role
from tests.factories import UserFactory


def test_home_introduces_the_clinic_and_its_options_in_ladder_order(client, db):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Start your intake" in page
    names = ["Hypertonic dextrose prolotherapy", "Platelet-rich plasma (PRP)", "Allograft"]
    positions = [page.index(name) for name in names]
    assert positions == sorted(positions)
    assert "usually self-pay" in page


def test_home_serves_assets_locally_never_from_a_cdn(client, db):
    page = client.get(reverse("home")).content.decode()
    assert "/static/bootstrap/css/bootstrap.min.css" in page
    assert "/static/django_htmx/htmx" in page
    assert "//cdn" not in page and "https://" not in page


def test_home_query_count_is_fixed(client, db, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        client.get(reverse("home"))


def test_signed_in_visitor_is_offered_their_page(client, db):
    client.force_login(UserFactory(role=Role.PATIENT))
    assert "Go to your page" in client.get(reverse("home")).content.decode()


def test_home_refuses_post(client, db):
    assert client.post(reverse("home")).status_code == 405


def test_unknown_page_is_a_styled_404(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert "We could not find that page" in response.content.decode()


@pytest.mark.parametrize("template", ["403.html", "404.html", "500.html"])
def test_error_templates_render_on_their_own(template):
    from django.template.loader import render_to_string

    assert "Back to the start" in render_to_string(template)


ICONS = ["img/favicon.svg", "img/favicon.ico", "img/apple-touch-icon.png"]


@pytest.mark.parametrize("persona", ["anon", "patient", "physician"])
def test_favicon_ico_leads_to_our_icon_for_everyone(client, request, persona):
    """Browsers ask for /favicon.ico on every page (the admin's too, which do not
    link our icons): it was a 404 each time."""
    if persona != "anon":
        client.force_login(request.getfixturevalue(persona))
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == static("img/favicon.ico")


def test_the_icons_are_our_own_files_and_every_page_links_them(client, db):
    page = client.get(reverse("home")).content.decode()
    for name in ICONS:
        assert static(name) in page, name
        path = finders.find(name)
        assert path is not None, name
    ico = Path(str(finders.find("img/favicon.ico"))).read_bytes()
    assert ico[:4] == b"\x00\x00\x01\x00"  # an icon resource, not an image renamed
    svg = Path(str(finders.find("img/favicon.svg"))).read_text(encoding="utf-8")
    assert svg.startswith("<svg") and "<script" not in svg


def test_favicon_refuses_post(client, db):
    assert client.post("/favicon.ico").status_code == 405
