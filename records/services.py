"""The FHIR exports: one case as a ``collection`` Bundle (the physician's download),
a patient's own record as a Bundle (the patient's download), and the whole clinic
as NDJSON files per resource type with a manifest (``manage.py fhir_export``, in
the style of the Bulk Data ``$export``).

Every export writes audit rows (one per case exported): the pages through
``clinic.audit``, the command here, as the command has no request."""

import json
import re
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from django.db.models import Model, QuerySet
from django.utils import timezone

from clinic.errors import ClinicError
from clinic.models import AuditEvent, User
from intake.models import Case, Instrument, Intake
from records.fhir import builders
from records.fhir.builders import Resource, validated
from records.selectors import (
    changed_since,
    export_cases,
    export_instruments,
    export_physicians,
)

# The resource types we emit, in the order a manifest lists them.
RESOURCE_TYPES = (
    "Patient",
    "Practitioner",
    "RelatedPerson",
    "Questionnaire",
    "QuestionnaireResponse",
    "Condition",
    "Observation",
    "AllergyIntolerance",
    "MedicationStatement",
    "Flag",
    "Consent",
    "DocumentReference",
    "Task",
    "Appointment",
    "CarePlan",
    "Procedure",
    "Device",
    "Provenance",
)
BULK_AUDIT_REQUEST_ID = "manage.py fhir_export"
CHUNK_SIZE = 200


def _events(record: Model) -> list[Any]:
    """The row's pghistory events (``record.history``, added by ``clinic.models.history``
    and so unknown to the type checker), as prefetched by the selector."""
    return list(record.history.all())  # type: ignore[attr-defined]


def _history_events(case: Case) -> Iterator[tuple[str, Any, dict[str, str]]]:
    """The case's change history as (table, event, the resource it changed): the
    case itself (its review Task), its complaints and its consultations."""
    for event in _events(case):
        yield "case", event, builders.ref("Task", str(case.public_id))
    for complaint in case.intake.complaints.all():
        for event in _events(complaint):
            yield "complaint", event, builders.ref("Condition", builders.condition_id(complaint))
    for consultation in case.consultations.all():
        for event in _events(consultation):
            yield "consultation", event, builders.ref("Appointment", str(consultation.public_id))


def _changed_by(event: Any) -> int | None:
    metadata = event.pgh_context.metadata if event.pgh_context is not None else None
    user = (metadata or {}).get("user")
    return user if isinstance(user, int) else None


def history_users(cases: list[Case]) -> dict[int, User]:
    """The people named in these cases' change history, in one query."""
    ids = {
        user
        for case in cases
        for _, event, _ in _history_events(case)
        if (user := _changed_by(event)) is not None
    }
    if not ids:
        return {}
    return {u.pk: u for u in User.objects.filter(pk__in=ids).select_related("physician_profile")}


def case_resources(case: Case, *, users: dict[int, User]) -> Iterator[Resource]:
    """The resources of one case (not its Patient, Practitioners or Questionnaires,
    which cases share). ``case`` comes from ``records.selectors.export_cases``;
    ``users`` are the people its history names (``history_users``)."""
    intake = case.intake
    recorded = intake.submitted_at or case.created_at
    yield from builders.related_people(intake)
    complaints = list(intake.complaints.all())
    for complaint in complaints:
        yield builders.condition(complaint, recorded=recorded)
        yield builders.pain_score(complaint, effective=recorded)
    yield from builders.vital_signs(intake, effective=recorded)
    for response in intake.responses.all():
        yield builders.questionnaire_response(response)
        yield builders.score(response)
    yield builders.intake_response(intake)
    for optional in (
        builders.allergy(intake),
        builders.medication_statement(intake),
        builders.consent(intake),
    ):
        if optional is not None:
            yield optional
    for upload in intake.imaging_files.all():
        yield builders.imaging_document(upload)
    for case_flag in case.flags.all():
        yield builders.flag(case_flag, case)
    yield builders.review_task(case)
    for consultation in case.consultations.all():
        yield builders.appointment(consultation, case)
    plans = list(case.treatment_plans.all())  # shared versions only (see the selector)
    for plan in plans:
        addresses = [
            builders.condition_id(c)
            for c in complaints
            if c.body_region_id == plan.body_region_id and c.side == plan.side
        ]
        yield builders.care_plan(plan, current=plan is plans[-1], addresses=addresses)
    for estimate in case.estimates.all():
        yield builders.estimate_document(estimate)
    yield from builders.procedures(case)
    for table, event, target in _history_events(case):
        user_id = _changed_by(event)
        agent = builders.history_agent(users.get(user_id) if user_id else None, case)
        yield builders.provenance(table=table, event=event, target=target, agent=agent)


def _practitioners_of(case: Case, users: dict[int, User]) -> Iterator[User]:
    if case.assigned_to is not None:
        yield case.assigned_to
    for consultation in case.consultations.all():
        yield consultation.physician
    for plan in case.treatment_plans.all():
        yield plan.physician
    for _, event, _ in _history_events(case):
        user = users.get(_changed_by(event) or 0)
        if user is not None and hasattr(user, "physician_profile"):
            yield user


def _instruments_of(case: Case) -> Iterator[Instrument]:
    for response in case.intake.responses.all():
        yield response.instrument


_REFERENCE = re.compile(r"^([A-Za-z]+)/([0-9a-f-]{36})$")


def _resolve(value: Any, held: set[str]) -> Any:
    """``value`` with each ``Type/id`` reference to a resource in the Bundle written as
    that entry's full URL (``urn:uuid:id``)."""
    if isinstance(value, dict):
        resolved = {key: _resolve(item, held) for key, item in value.items()}
        reference = value.get("reference")
        if isinstance(reference, str):
            match = _REFERENCE.match(reference)
            if match and match.group(2) in held:
                resolved["reference"] = f"urn:uuid:{match.group(2)}"
        return resolved
    if isinstance(value, list):
        return [_resolve(item, held) for item in value]
    return value


def bundle(resources: Iterable[Resource], *, now: datetime | None = None) -> Resource:
    """A ``collection`` Bundle of ``resources`` (each once), references resolved to
    the entries inside it."""
    unique: dict[tuple[str, str], Resource] = {}
    for resource in resources:
        unique.setdefault((resource["resourceType"], resource["id"]), resource)
    held = {resource_id for _, resource_id in unique}
    return validated(
        {
            "resourceType": "Bundle",
            "id": str(uuid.uuid4()),
            "type": "collection",
            "timestamp": (now or timezone.now()).isoformat(),
            "entry": [
                {"fullUrl": f"urn:uuid:{resource['id']}", "resource": _resolve(resource, held)}
                for resource in unique.values()
            ],
        }
    )


def _shared_resources(cases: list[Case], users: dict[int, User]) -> Iterator[Resource]:
    seen: set[int] = set()
    for case in cases:
        for user in _practitioners_of(case, users):
            if user.pk not in seen:
                seen.add(user.pk)
                yield builders.practitioner(user)
    instruments: set[int] = set()
    for case in cases:
        for instrument in _instruments_of(case):
            if instrument.pk not in instruments:
                instruments.add(instrument.pk)
                yield builders.questionnaire(instrument)


def case_bundle(case_id: int) -> tuple[Case, Resource]:
    """One case, as the physician downloads it."""
    case = export_cases().get(pk=case_id)
    users = history_users([case])
    resources = [
        builders.patient(case.patient, case.intake),
        *_shared_resources([case], users),
        *case_resources(case, users=users),
    ]
    return case, bundle(resources)


def patient_cases(patient: User) -> list[Case]:
    """The patient's cases, oldest first, with everything their record shows."""
    return list(export_cases().filter(patient=patient).order_by("created_at", "pk"))


def patient_bundle(patient: User) -> tuple[list[Case], Resource]:
    """The patient's own record: every case of theirs, as they download it. The
    Patient resource is from their latest intake's answers (or their account alone)."""
    cases = patient_cases(patient)
    latest = cases[-1].intake if cases else Intake.objects.of_patient(patient).first()
    users = history_users(cases)
    resources = [
        builders.patient(patient, latest or Intake(patient=patient)),
        *_shared_resources(cases, users),
    ]
    for case in cases:
        resources.extend(case_resources(case, users=users))
    return cases, bundle(resources)


# --- the bulk export --------------------------------------------------------------


@dataclass
class BulkExport:
    """What a bulk export wrote: counts per resource type, and its manifest."""

    out: Path
    transaction_time: datetime
    since: datetime | None
    counts: dict[str, int] = field(default_factory=dict)
    cases: int = 0

    def manifest(self) -> dict[str, Any]:
        return {
            "transactionTime": self.transaction_time.isoformat(),
            "request": "manage.py fhir_export"
            + (f" --since {self.since.isoformat()}" if self.since else ""),
            "requiresAccessToken": False,
            "output": [
                {"type": kind, "url": f"{kind}.ndjson", "count": self.counts[kind]}
                for kind in RESOURCE_TYPES
                if self.counts.get(kind)
            ],
            "error": [],
        }


class _Writers:
    """One NDJSON file per resource type, created on first use (never over an
    existing file: ``x`` mode)."""

    def __init__(self, out: Path, export: BulkExport) -> None:
        self.out = out
        self.export = export
        self.files: dict[str, IO[str]] = {}

    def write(self, resource: Resource) -> None:
        kind = resource["resourceType"]
        if kind not in self.files:
            self.files[kind] = (self.out / f"{kind}.ndjson").open("x", encoding="utf-8")
        self.files[kind].write(json.dumps(resource, separators=(",", ":")) + "\n")
        self.export.counts[kind] = self.export.counts.get(kind, 0) + 1

    def close(self) -> None:
        for handle in self.files.values():
            handle.close()


def _exported_cases(since: datetime | None) -> QuerySet[Case]:
    cases = Case.objects.all()
    if since is not None:
        # A subquery, not a join: a case with many changed rows is exported once.
        cases = cases.filter(pk__in=Case.objects.filter(changed_since(since)).values("pk"))
    # By patient, newest case first: the patient's resource comes from their latest intake.
    return cases.order_by("patient_id", "-created_at", "-pk")


def _audit_bulk(cases: list[Case], at: datetime) -> None:
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=at,
            actor=None,
            actor_role="",
            patient_id=case.patient_id,
            action=AuditEvent.Action.EXPORT,
            record_type="case",
            record_id=str(case.public_id),
            request_id=BULK_AUDIT_REQUEST_ID,
        )
        for case in cases
    )


def fhir_bulk_export(*, out: Path, since: datetime | None = None) -> BulkExport:
    """Writes the clinic's records (changed since ``since``, or all) to ``out``: one
    NDJSON file per resource type and ``manifest.json``. ``out`` must be an empty
    directory (the command checks and creates it). Cases are read in chunks, so
    memory does not grow with the clinic; each chunk writes its audit rows."""
    if any(out.iterdir()):
        raise ClinicError(f"{out} is not empty; export into a new or empty directory.")
    export = BulkExport(out=out, transaction_time=timezone.now(), since=since)
    writers = _Writers(out, export)
    try:
        for physician in export_physicians().iterator(chunk_size=CHUNK_SIZE):
            writers.write(builders.practitioner(physician))
        for instrument in export_instruments().iterator(chunk_size=CHUNK_SIZE):
            writers.write(builders.questionnaire(instrument))
        last_patient: int | None = None
        # The ids first (a list of integers), then each chunk of cases with its
        # related rows: memory holds one chunk, whatever the clinic's size.
        ids = list(_exported_cases(since).values_list("pk", flat=True))
        for start in range(0, len(ids), CHUNK_SIZE):
            wanted = ids[start : start + CHUNK_SIZE]
            loaded = {case.pk: case for case in export_cases().filter(pk__in=wanted)}
            chunk = [loaded[pk] for pk in wanted]
            users = history_users(chunk)
            for case in chunk:
                if case.patient_id != last_patient:
                    last_patient = case.patient_id
                    writers.write(builders.patient(case.patient, case.intake))
                for resource in case_resources(case, users=users):
                    writers.write(resource)
            _audit_bulk(chunk, export.transaction_time)
            export.cases += len(chunk)
    finally:
        writers.close()
    (out / "manifest.json").write_text(
        json.dumps(export.manifest(), indent=2) + "\n", encoding="utf-8"
    )
    return export
