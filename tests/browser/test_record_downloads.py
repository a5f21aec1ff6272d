"""Issue 22 in headless Chromium: the case's physician downloads it as FHIR from the
case page; the patient reads their record on its page and downloads it as FHIR from
theirs. The record page is checked with axe-core and for sideways scrolling at 1280
and 375 px (see tests/browser/journey.py)."""

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from clinic.models import AuditEvent
from intake import cases
from records.views import PATIENT_RECORD
from tests.browser.journey import DESKTOP, PHONE, inspect, log_in
from tests.factories import submitted_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _downloaded_bundle(tab: Page, link: str) -> dict:
    with tab.expect_download() as download:
        tab.get_by_role("link", name=link).click()
    path = download.value.path()
    assert path is not None
    bundle: dict = json.loads(Path(path).read_text())
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    return bundle


def test_the_physician_and_the_patient_download_from_their_pages(
    new_context, live_server, patient, physician, axe_violations
):
    problems: dict[str, list[str]] = {}
    case = submitted_case(patient)
    cases.case_claim(case=case, physician=physician)

    doctor = new_context(viewport=DESKTOP).new_page()
    doctor.set_default_timeout(10_000)
    log_in(doctor, live_server.url, physician.email)
    doctor.goto(f"{live_server.url}/review/cases/{case.public_id}/")
    bundle = _downloaded_bundle(doctor, "Download as FHIR")
    tasks = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Task"]
    assert [task["id"] for task in tasks] == [str(case.public_id)]
    assert AuditEvent.objects.filter(
        actor=physician, action="export", record_id=str(case.public_id)
    ).exists()

    tab = new_context(viewport=PHONE).new_page()
    tab.set_default_timeout(10_000)
    log_in(tab, live_server.url, patient.email)
    expect(tab.get_by_role("heading", name="Your record")).to_be_visible()
    bundle = _downloaded_bundle(tab, "Download my record")
    patients = [
        e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient"
    ]
    assert [p["id"] for p in patients] == [str(patient.public_id)]
    tab.get_by_role("link", name="Read my record").click()
    expect(tab.get_by_role("heading", level=1)).to_have_text("Your health record")
    expect(tab.get_by_role("heading", name=f"Intake {case.reference}")).to_be_visible()
    inspect(tab, "my-record", axe_violations, problems)
    assert AuditEvent.objects.filter(actor=patient, record_type=PATIENT_RECORD).count() == 2
    assert problems == {}
