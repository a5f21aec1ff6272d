"""Imaging uploads: content-checked, stored outside the web root, shown only to the
people allowed to see the intake."""

import io

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image
from pypdf import PdfWriter

from clinic.storage import PrivateMediaStorage
from intake.forms import detected_imaging_type
from intake.models import ImagingFile, Intake, private_storage
from tests.intake.step_posts import imaging_post

pytestmark = pytest.mark.django_db


def pdf_bytes() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def image_bytes(kind: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format=kind)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (pdf_bytes(), "application/pdf"),
        (image_bytes("JPEG"), "image/jpeg"),
        (image_bytes("PNG"), "image/png"),
        (b"%PDF-1.7 but nothing after it", None),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 50, None),
        (b"MZ\x90\x00 a Windows program", None),
        (b"<html><script>alert(1)</script></html>", None),
        (image_bytes("GIF"), None),
    ],
)
def test_the_content_decides_what_a_file_is_not_its_name(content, expected):
    upload = SimpleUploadedFile("scan.pdf", content, content_type="application/pdf")
    assert detected_imaging_type(upload) == expected


def step6(intake: Intake) -> str:
    return reverse("intake:step", kwargs={"public_id": intake.public_id, "step": 6})


def draft_for(client, patient) -> Intake:
    client.post(reverse("intake:new"))
    return Intake.objects.get(patient=patient)


def test_a_pdf_is_stored_outside_the_web_root_under_a_name_of_our_own(login, patient):
    client = login(patient)
    intake = draft_for(client, patient)
    upload = SimpleUploadedFile(
        "../../etc/My MRI report.pdf", pdf_bytes(), content_type="text/plain"
    )
    response = client.post(
        step6(intake), {**imaging_post("yes"), "upload": upload, "action": "stay"}
    )
    # Status 'yes' without a study: the step does not validate, so nothing is stored.
    assert response.status_code == 200
    assert not ImagingFile.objects.exists()

    upload.seek(0)
    response = client.post(
        step6(intake), {**imaging_post("no"), "upload": upload, "action": "stay"}
    )
    assert response.status_code == 302
    record = ImagingFile.objects.get()
    assert record.content_type == "application/pdf"
    assert record.original_name == "My MRI report.pdf"
    assert record.file.name == f"imaging/{intake.public_id}/{record.public_id}.pdf"
    stored = settings.PRIVATE_MEDIA_ROOT / record.file.name
    assert stored.read_bytes() == pdf_bytes()
    assert not str(stored).startswith(str(settings.STATIC_ROOT))
    assert len(record.sha256) == 64


def test_a_file_that_is_not_what_it_claims_is_refused_with_a_message(login, patient):
    client = login(patient)
    intake = draft_for(client, patient)
    upload = SimpleUploadedFile(
        "xray.png", b"<?php system($_GET['c']); ?>", content_type="image/png"
    )
    response = client.post(
        step6(intake), {**imaging_post("no"), "upload": upload, "action": "stay"}
    )
    assert response.status_code == 200
    assert "could not read this file as a PDF, JPEG or PNG" in response.content.decode()
    assert not ImagingFile.objects.exists()


def test_a_file_over_the_limit_is_refused(login, patient, settings):
    settings.IMAGING_MAX_UPLOAD_MB = 1
    client = login(patient)
    intake = draft_for(client, patient)
    big = pdf_bytes() + b"\n%" + b"x" * (1024 * 1024)
    upload = SimpleUploadedFile("big.pdf", big, content_type="application/pdf")
    response = client.post(
        step6(intake), {**imaging_post("no"), "upload": upload, "action": "stay"}
    )
    assert "larger than 1 MB" in response.content.decode()
    assert not ImagingFile.objects.exists()


@pytest.fixture
def uploaded(login, patient) -> ImagingFile:
    client = login(patient)
    intake = draft_for(client, patient)
    upload = SimpleUploadedFile("knee.png", image_bytes("PNG"), content_type="image/png")
    client.post(step6(intake), {**imaging_post("no"), "upload": upload, "action": "stay"})
    client.logout()
    return ImagingFile.objects.get()


def file_url(record: ImagingFile) -> str:
    return reverse("intake:file", kwargs={"file_id": record.public_id})


def test_the_patient_and_physicians_can_open_the_file(client, uploaded, patient, physician):
    for person in (patient, physician):
        client.force_login(person)
        response = client.get(file_url(uploaded))
        assert response.status_code == 200, person
        assert response["Content-Type"] == "image/png"
        assert response["Cache-Control"] == "private, no-store"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert b"".join(response.streaming_content) == image_bytes("PNG")


def test_no_one_else_can_open_the_file(client, uploaded, other_patient, front_desk, clinic_admin):
    assert client.get(file_url(uploaded)).status_code == 302  # to the login page
    client.force_login(other_patient)
    assert client.get(file_url(uploaded)).status_code == 404
    for staff in (front_desk, clinic_admin):  # scheduling and configuration, not care
        client.force_login(staff)
        assert client.get(file_url(uploaded)).status_code == 403


def test_the_file_page_answers_only_get(client, uploaded, patient):
    client.force_login(patient)
    assert client.post(file_url(uploaded)).status_code == 405


def test_the_patient_removes_a_file_and_it_leaves_the_disk(
    client, uploaded, patient, django_capture_on_commit_callbacks
):
    stored = settings.PRIVATE_MEDIA_ROOT / uploaded.file.name
    client.force_login(patient)
    url = reverse(
        "intake:file_remove",
        kwargs={"public_id": uploaded.intake.public_id, "file_id": uploaded.public_id},
    )
    assert client.get(url).status_code == 405
    with django_capture_on_commit_callbacks(execute=True):
        assert client.post(url).status_code == 302
    assert not ImagingFile.objects.exists()
    assert not stored.exists()


def test_another_patient_cannot_remove_the_file(client, uploaded, other_patient):
    client.force_login(other_patient)
    url = reverse(
        "intake:file_remove",
        kwargs={"public_id": uploaded.intake.public_id, "file_id": uploaded.public_id},
    )
    assert client.post(url).status_code == 404
    assert ImagingFile.objects.exists()


def test_at_most_the_configured_number_of_files(login, patient, settings):
    settings.IMAGING_MAX_FILES = 1
    client = login(patient)
    intake = draft_for(client, patient)
    for n in range(2):
        upload = SimpleUploadedFile(f"{n}.png", image_bytes("PNG"), content_type="image/png")
        response = client.post(
            step6(intake), {**imaging_post("no"), "upload": upload, "action": "stay"}
        )
    assert "at most 1 file" in response.content.decode()
    assert ImagingFile.objects.count() == 1


def test_uploaded_imaging_is_stored_where_the_setting_says(settings, tmp_path):
    """The storage is the STORAGES["private"] setting, read when the app starts
    (docs/scaling.md: object storage for several web hosts is a change of it)."""
    assert isinstance(ImagingFile._meta.get_field("file").storage, PrivateMediaStorage)
    assert isinstance(private_storage(), PrivateMediaStorage)
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "elsewhere")},
        },
    }
    storage = private_storage()
    assert not isinstance(storage, PrivateMediaStorage)
    assert storage.location == str(tmp_path / "elsewhere")  # type: ignore[attr-defined]
