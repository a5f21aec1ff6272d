"""Who may see and do what with patients' data: the one place the rules live.

- **Patients** see and change only their own records (anyone else's is a 404).
- **Physicians** may read any case of the clinic (a colleague may be asked for an
  opinion) and act only on cases assigned to them or in the unassigned pool.
- **Front desk** schedule: contact details, preferences and consultations, never
  clinical answers, scores, flags or notes.
- **Clinic admins** run configuration and accounts and read the audit log; they do
  not see care (no clinical pages, no imaging). Admins stand in for the front desk.
  One exception, with physicians: the tissue-lot recall list (who received which
  donor-tissue lot, when, and how to reach them; no answers, no notes).

Views open their area with one of the decorators below and fetch objects through
the ``may_*`` rules; services check the same rules again before they change
anything, so a form or task cannot go around a page's check. The access-matrix
test (tests/test_access_matrix.py) proves every URL against them."""

from typing import Protocol

from clinic.access import role_required
from clinic.errors import ClinicError
from clinic.models import User
from clinic.roles import Role, role_of

FRONT_DESK_ROLES = (Role.FRONT_DESK, Role.CLINIC_ADMIN)
CLINICAL_READERS = (Role.PATIENT, Role.PHYSICIAN)

# The areas of the site, by who opens them (others get a 403, visitors the login).
patient_area = role_required(Role.PATIENT)
review_area = role_required(Role.PHYSICIAN)
front_desk_area = role_required(*FRONT_DESK_ROLES)
audit_area = role_required(Role.CLINIC_ADMIN)
# Who received a donor-tissue lot, for a recall (tissue tracking, 21 CFR 1271.290).
recall_area = role_required(Role.PHYSICIAN, Role.CLINIC_ADMIN)
# The clinic's outcomes report (counts and medians, no patient): physicians and admins.
outcomes_area = role_required(Role.PHYSICIAN, Role.CLINIC_ADMIN)
# Uploaded imaging: the patient and physicians; the object rule below decides which.
clinical_record_area = role_required(*CLINICAL_READERS)


class PatientRecord(Protocol):
    patient_id: int


class AssignableCase(Protocol):
    assigned_to_id: int | None


def may_read_clinical_record(user: User, record: PatientRecord) -> bool:
    """A patient's answers, files and decisions: the patient themself and the
    clinic's physicians."""
    role = role_of(user)
    if role == Role.PATIENT:
        return record.patient_id == user.pk
    return role == Role.PHYSICIAN


def may_act_on_case(user: User, case: AssignableCase) -> bool:
    """Physicians act on their own cases and on the unassigned pool."""
    return role_of(user) == Role.PHYSICIAN and case.assigned_to_id in (None, user.pk)


def require_physician(user: User) -> None:
    if role_of(user) != Role.PHYSICIAN:
        raise ClinicError("Only physicians can work on cases.")


def require_front_desk(user: User, *, doing: str) -> None:
    """Services the front desk runs refuse anyone else (``doing``: what is refused)."""
    if role_of(user) not in FRONT_DESK_ROLES:
        raise ClinicError(f"Only the front desk {doing}.")


class CaseRecord(Protocol):
    patient_id: int
    assigned_to_id: int | None


def may_plan_care(user: User, case: CaseRecord) -> bool:
    """Treatment plans, instructions and procedures: only the case's own physician
    (not the pool, not a colleague asked for an opinion)."""
    return role_of(user) == Role.PHYSICIAN and case.assigned_to_id == user.pk


def may_read_estimate(user: User, record: PatientRecord) -> bool:
    """A Good Faith Estimate is a billing document: the patient, the clinic's
    physicians and the front desk (it holds codes and charges, no clinical notes)."""
    role = role_of(user)
    if role == Role.PATIENT:
        return record.patient_id == user.pk
    return role in (Role.PHYSICIAN, *FRONT_DESK_ROLES)


# Good Faith Estimates: the patient, physicians and the front desk (see below).
estimate_area = role_required(Role.PATIENT, Role.PHYSICIAN, *FRONT_DESK_ROLES)


def may_export_case(user: User, case: CaseRecord) -> bool:
    """Taking a case out of the product as FHIR: only the physician the case is
    assigned to (not a colleague asked for an opinion, not the pool, never the
    front desk, who schedule and do not read clinical answers)."""
    return role_of(user) == Role.PHYSICIAN and case.assigned_to_id == user.pk
