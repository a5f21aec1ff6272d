"""The read audit: every time a patient's data is shown, downloaded or printed, one
row says who saw which record of which patient, how, when, from where and in which
request. Views call these right after they fetched what they show."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.http import HttpRequest

from clinic.access import client_ip
from clinic.models import AuditEvent, User
from clinic.roles import role_of

Action = AuditEvent.Action


@dataclass(frozen=True)
class Seen:
    """One record shown: its kind (``case``, ``intake``, ...), public id, patient."""

    record_type: str
    record_id: str
    patient_id: int | None


def seen(record: models.Model, patient_id: int | None) -> Seen:
    public_id = getattr(record, "public_id", None) or record.pk
    return Seen(str(record._meta.verbose_name), str(public_id), patient_id)


def audit_reads(request: HttpRequest, *, action: str, records: Iterable[Seen]) -> None:
    """Writes one row per record (a list page writes one per patient on it), in one
    INSERT."""
    user = request.user
    actor_id = user.pk if isinstance(user, User) else None
    role = role_of(user)
    ip = client_ip(request)
    request_id = getattr(request, "request_id", "")
    AuditEvent.objects.bulk_create(
        AuditEvent(
            actor_id=actor_id,
            actor_role=role.value if role else "",
            patient_id=record.patient_id,
            action=action,
            record_type=record.record_type,
            record_id=record.record_id,
            ip_address=ip,
            request_id=request_id,
        )
        for record in records
    )


def audit_read(
    request: HttpRequest, *, action: str, record: models.Model, patient_id: int | None
) -> None:
    audit_reads(request, action=action, records=[seen(record, patient_id)])
