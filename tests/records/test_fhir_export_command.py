"""``manage.py fhir_export``: NDJSON per resource type with a manifest, the
changed-since export, audit rows, streaming in chunks, and clear errors for
hostile ``--since`` and ``--out`` values."""

import json
from datetime import timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from clinic.models import AuditEvent, User
from intake.models import Case
from records import services
from tests.factories import submitted_case


def _export(out: Path, *args: str) -> str:
    stdout = StringIO()
    call_command("fhir_export", "--out", str(out), *args, stdout=stdout)
    return stdout.getvalue()


def _read(out: Path) -> tuple[dict[str, Any], dict[str, list[dict[str, Any]]]]:
    manifest = json.loads((out / "manifest.json").read_text())
    files = {
        output["type"]: [
            json.loads(line) for line in (out / output["url"]).read_text().splitlines()
        ]
        for output in manifest["output"]
    }
    return manifest, files


def test_the_export_writes_one_ndjson_file_per_type_and_a_manifest(
    tmp_path: Path, patient: User, other_patient: User, physician: User
) -> None:
    cases = [submitted_case(patient), submitted_case(patient, region="hip")]
    cases.append(submitted_case(other_patient))
    out = tmp_path / "export"
    said = _export(out)
    assert "Exported 3 case(s)" in said
    manifest, files = _read(out)
    assert manifest["requiresAccessToken"] is False and manifest["error"] == []
    assert [o["type"] for o in manifest["output"]] == [
        kind for kind in services.RESOURCE_TYPES if kind in files
    ]
    for output in manifest["output"]:
        assert output["count"] == len(files[output["type"]])
        assert all(r["resourceType"] == output["type"] for r in files[output["type"]])
    # Each patient once, however many cases they have.
    assert sorted(p["id"] for p in files["Patient"]) == sorted(
        [str(patient.public_id), str(other_patient.public_id)]
    )
    assert {t["id"] for t in files["Task"]} == {str(c.public_id) for c in cases}
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["manifest.json", *(f"{kind}.ndjson" for kind in files)]
    )


def test_every_exported_case_writes_an_audit_row(tmp_path: Path, patient: User) -> None:
    case = submitted_case(patient)
    _export(tmp_path / "export")
    [row] = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT)
    assert (row.actor_id, row.patient_id, row.record_type, row.record_id, row.request_id) == (
        None,
        patient.pk,
        "case",
        str(case.public_id),
        services.BULK_AUDIT_REQUEST_ID,
    )


def test_the_changed_since_export_holds_only_cases_changed_since(
    tmp_path: Path, patient: User, other_patient: User
) -> None:
    long_ago = timezone.now() - timedelta(days=30)
    with time_machine.travel(long_ago, tick=False):
        old = submitted_case(other_patient)
    new = submitted_case(patient)
    since = (timezone.localtime() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    out = tmp_path / "since"
    assert "Exported 1 case(s)" in _export(out, "--since", since)
    manifest, files = _read(out)
    assert [t["id"] for t in files["Task"]] == [str(new.public_id)]
    assert [p["id"] for p in files["Patient"]] == [str(patient.public_id)]
    assert since in manifest["request"][:-6] or manifest["request"].startswith(
        "manage.py fhir_export --since"
    )
    # A case written to since then (here: moved by its physician) is exported again.
    Case.objects.filter(pk=old.pk).update(updated_at=timezone.now())
    again = tmp_path / "again"
    _export(again, "--since", since)
    assert {t["id"] for t in _read(again)[1]["Task"]} == {str(old.public_id), str(new.public_id)}


def test_the_export_streams_in_chunks_and_its_queries_do_not_grow_with_cases(
    tmp_path: Path, patient: User, other_patient: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    submitted_case(patient)
    with CaptureQueriesContext(connection) as one:
        services.fhir_bulk_export(out=_empty(tmp_path / "one"))
    for _ in range(3):
        submitted_case(other_patient)
    with CaptureQueriesContext(connection) as four:
        services.fhir_bulk_export(out=_empty(tmp_path / "four"))
    assert len(four) == len(one)
    # In chunks of two, every case is still exported (and audited) once.
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    export = services.fhir_bulk_export(out=_empty(tmp_path / "chunks"))
    assert export.cases == 4 and export.counts["Task"] == 4
    assert AuditEvent.objects.filter(request_id=services.BULK_AUDIT_REQUEST_ID).count() == 1 + 4 + 4


def _empty(path: Path) -> Path:
    path.mkdir()
    return path


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("yesterday", "is not a date"),
        ("2026-13-01", "is not a date"),
        ("2026-02-30", "is not a date"),
        ("2026-06-30T25:00", "is not a date"),
        ("'; DROP TABLE intake_case; --", "is not a date"),
        ("99999-01-01", "is not a date"),
        ("2999-01-01", "is in the future"),
        ("", "is not a date"),
    ],
)
def test_a_hostile_since_gets_a_clear_error(
    tmp_path: Path, patient: User, since: str, message: str
) -> None:
    submitted_case(patient)
    out = tmp_path / "export"
    with pytest.raises(CommandError, match=message):
        call_command("fhir_export", "--out", str(out), "--since", since)
    assert not out.exists()
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_a_hostile_out_gets_a_clear_error(tmp_path: Path, patient: User) -> None:
    submitted_case(patient)
    a_file = tmp_path / "a-file"
    a_file.write_text("keep me")
    full = _empty(tmp_path / "full")
    (full / "Patient.ndjson").write_text("an earlier export")
    for out, message in [
        (a_file, "is not a directory"),
        (full, "is not empty"),
        (tmp_path / "no" / "such" / "parent", "does not exist"),
        ("bad\x00name", "must name a directory"),
        ("  ", "must name a directory"),
    ]:
        with pytest.raises(CommandError, match=message):
            call_command("fhir_export", "--out", str(out))
    assert a_file.read_text() == "keep me"
    assert (full / "Patient.ndjson").read_text() == "an earlier export"
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT).exists()


def test_an_empty_clinic_exports_a_manifest_of_nothing(tmp_path: Path, physician: User) -> None:
    out = tmp_path / "export"
    _export(out)
    manifest, files = _read(out)
    assert set(files) <= {"Practitioner", "Questionnaire"}
    assert [o["type"] for o in manifest["output"]] == sorted(
        files, key=services.RESOURCE_TYPES.index
    )
