import gzip
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
    # No script a page does not run: no template uses htmx, so it is not shipped.
    assert "htmx" not in page
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


def test_pages_are_compressed_for_browsers_that_accept_it(client, db):
    plain = client.get(reverse("home"))
    assert "Content-Encoding" not in plain
    packed = client.get(reverse("home"), HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    page = gzip.decompress(packed.content).decode()
    assert "Start your intake" in page
    # A fraction of the page's size on the wire.
    assert len(packed.content) < len(plain.content) / 3


def test_static_files_are_also_compressed_with_brotli(tmp_path):
    """In production (collectstatic with WhiteNoise's storage) each CSS and script
    file gets a Brotli copy, which browsers prefer to gzip: Bootstrap's CSS is a
    fifth smaller on the wire."""
    from whitenoise.compress import Compressor  # type: ignore[import-untyped]

    css = finders.find("bootstrap/css/bootstrap.min.css")
    assert css is not None
    copy = tmp_path / "bootstrap.min.css"
    copy.write_bytes(Path(css).read_bytes())
    written = list(Compressor(quiet=True).compress(str(copy)))
    assert str(copy) + ".br" in written
    assert (tmp_path / "bootstrap.min.css.br").stat().st_size < (
        tmp_path / "bootstrap.min.css.gz"
    ).stat().st_size
