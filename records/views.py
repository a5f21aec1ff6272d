"""The downloads: a physician's "Download as FHIR" on the case page, and a patient's
"Download my record" on their page. Both are GETs (a download changes nothing but
the audit log), never stored by a browser or proxy, and audited as exports."""

import json
from datetime import timedelta
from typing import Any
from uuid import UUID

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.http import require_safe

from clinic.access import signed_in_user
from clinic.audit import Action, Seen, audit_read, audit_reads, seen
from clinic.models import AuditEvent, User
from clinic.policy import may_export_case, patient_area, review_area
from intake.models import Case
from records import services

# The audit row of one whole-record download: what the rate limit counts.
PATIENT_RECORD = "patient record"


def _fhir_download(bundle: dict[str, Any], filename: str) -> HttpResponse:
    response = HttpResponse(
        json.dumps(bundle, indent=1), content_type="application/fhir+json; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@review_area
def case_fhir(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The case as a FHIR R4 ``collection`` Bundle, for the case's own physician."""
    me = signed_in_user(request)
    case = get_object_or_404(
        Case.objects.only("pk", "public_id", "patient_id", "assigned_to_id"), public_id=public_id
    )
    if not may_export_case(me, case):
        raise Http404("No such case.")
    exported, bundle = services.case_bundle(case.pk)
    audit_read(request, action=Action.EXPORT, record=exported, patient_id=exported.patient_id)
    return _fhir_download(bundle, f"case-{exported.reference}.fhir.json")


def _downloads_in_the_last_hour(patient: User) -> int:
    return AuditEvent.objects.filter(
        actor=patient,
        action=Action.EXPORT,
        record_type=PATIENT_RECORD,
        at__gte=timezone.now() - timedelta(hours=1),
    ).count()


def _too_many(request: HttpRequest, patient: User) -> HttpResponse | None:
    """The rate limit shared by both forms of the record: a 429 page once the patient
    has taken ``RECORD_DOWNLOADS_PER_HOUR`` copies in the last hour."""
    limit = settings.RECORD_DOWNLOADS_PER_HOUR
    if _downloads_in_the_last_hour(patient) < limit:
        return None
    response = render(request, "records/too_many_downloads.html", {"limit": limit}, status=429)
    response["Retry-After"] = "3600"
    return response


def _audit_record(request: HttpRequest, patient: User, cases: list[Case]) -> None:
    audit_reads(
        request,
        action=Action.EXPORT,
        records=[
            Seen(PATIENT_RECORD, str(patient.public_id), patient.pk),
            *(seen(case, patient.pk) for case in cases),
        ],
    )


@require_safe
@patient_area
def my_record_fhir(request: HttpRequest) -> HttpResponse:
    """The patient's own record, every case of theirs, as a FHIR R4 Bundle (the
    HIPAA right of access). Limited to ``RECORD_DOWNLOADS_PER_HOUR`` an hour."""
    me = signed_in_user(request)
    refused = _too_many(request, me)
    if refused is not None:
        return refused
    cases, bundle = services.patient_bundle(me)
    _audit_record(request, me, cases)
    return _fhir_download(bundle, "my-health-record.fhir.json")


@require_safe
@patient_area
def my_record(request: HttpRequest) -> HttpResponse:
    """The same record as a page to read, print or save: what the patient told us,
    and what the clinic decided, booked, planned and estimated with them (no staff
    notes). Counted and audited like the FHIR download."""
    me = signed_in_user(request)
    refused = _too_many(request, me)
    if refused is not None:
        return refused
    cases = services.patient_cases(me)
    _audit_record(request, me, cases)
    response = render(request, "records/my_record.html", {"cases": cases, "now": timezone.now()})
    response["Cache-Control"] = "private, no-store"
    return response
