"""Recording the procedure on its day, and finding who received a donor-tissue lot.

The physician of the case records what was done once the patient is in (the
procedure booked for today, checked in, or already completed). The record follows
the shared plan it was booked from: the option is one of the plan's, and the kind of
record (an injection; the patient's own cells, harvested; donor tissue) comes from
the catalog, so a donor-tissue record cannot be saved without its lot, and a harvest
without its site and volume (the database refuses both as well). Recording completes
the procedure if the front desk has not, and moves the case to "treated", each with
its event. A record is never changed afterwards (see ``ProcedureRecord``).
"""

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import dateformat, timezone

from care.models import ProcedureRecord
from care.services.followups import followups_plan
from care.services.procedures import PROCEDURE_TYPE, procedure_plan
from clinic.errors import ClinicError
from clinic.models import User
from clinic.policy import may_plan_care, require_physician
from intake import scheduling
from intake.models import Case, CaseEvent, Consultation
from treatments.models import BodyRegion, TreatmentOption

RECORDABLE_STATES = frozenset(
    {Consultation.State.BOOKED, Consultation.State.CHECKED_IN, Consultation.State.COMPLETED}
)


@dataclass(frozen=True)
class ProcedureDetails:
    """What the physician enters; which fields apply depends on the option's kind."""

    performed_at: datetime
    option: TreatmentOption
    body_region: BodyRegion
    side: str
    guidance: str
    volume_injected_ml: Decimal
    harvest_site: str = ""
    volume_harvested_ml: Decimal | None = None
    nucleated_cells_millions: Decimal | None = None
    product_name: str = ""
    manufacturer: str = ""
    lot_number: str = ""
    lot_expires_on: date | None = None
    complication: str = ProcedureRecord.Complication.NONE
    note: str = ""


def record_kind(option: TreatmentOption) -> str:
    """From the catalog: donor tissue is allogeneic; the patient's own cells are
    harvested (bone marrow, fat); anything else is an injection (PRP's blood draw is
    not a harvest)."""
    if option.origin == TreatmentOption.Origin.ALLOGENEIC:
        return ProcedureRecord.Kind.DONOR_TISSUE
    if option.is_cell_based:
        return ProcedureRecord.Kind.CELL_HARVEST
    return ProcedureRecord.Kind.INJECTION


def _check(details: ProcedureDetails, *, kind: str, consultation: Consultation) -> None:
    """The rules a person can break by typing; each refusal says what to fix."""
    now = timezone.now()
    if details.performed_at > now:
        raise ClinicError("The procedure's time is in the future; enter when it was done.")
    if timezone.localdate(details.performed_at) != timezone.localdate(consultation.starts_at):
        raise ClinicError(
            "The procedure's date must be the day it was booked for "
            f"({dateformat.format(timezone.localtime(consultation.starts_at), 'l, F j')})."
        )
    if kind == ProcedureRecord.Kind.DONOR_TISSUE:
        missing = [
            label
            for label, value in (
                ("product", details.product_name),
                ("manufacturer", details.manufacturer),
                ("lot or serial number", details.lot_number),
                ("expiry date", details.lot_expires_on),
            )
            if not value
        ]
        if missing:
            raise ClinicError(
                "Donor tissue must be traceable: enter its " + ", ".join(missing) + "."
            )
        assert details.lot_expires_on is not None  # noqa: S101
        if details.lot_expires_on < timezone.localdate(details.performed_at):
            raise ClinicError(
                f"That lot expired on {details.lot_expires_on:%B %-d, %Y}, before the "
                "procedure: check the expiry date on the label."
            )
    elif details.lot_number or details.product_name or details.manufacturer:
        raise ClinicError("A lot number is recorded only for donor tissue (allograft).")
    if kind == ProcedureRecord.Kind.CELL_HARVEST:
        if not details.harvest_site or not details.volume_harvested_ml:
            raise ClinicError("Enter where the cells were harvested and the volume harvested.")
    elif details.harvest_site or details.volume_harvested_ml or details.nucleated_cells_millions:
        raise ClinicError("Harvest details are recorded only for bone-marrow or fat-cell options.")
    if details.complication != ProcedureRecord.Complication.NONE and not details.note.strip():
        raise ClinicError("Describe the complication in the note.")


def procedure_record(
    *, consultation: Consultation, physician: User, details: ProcedureDetails
) -> ProcedureRecord:
    """Records the procedure of ``consultation`` once; completes the consultation if
    it is not yet, and moves the case to "treated"."""
    require_physician(physician)
    with transaction.atomic():
        # The consultation's row first, then the case's: the order the front desk's
        # check-in and completion take them (scheduling.consultation_move), so the two
        # at the same moment queue up instead of deadlocking.
        locked = (
            Consultation.objects.select_for_update()
            .select_related("consultation_type")
            .get(pk=consultation.pk)
        )
        case = Case.objects.select_for_update().get(pk=locked.case_id)
        if locked.consultation_type.slug != PROCEDURE_TYPE:
            raise ClinicError("Only an injection procedure has a procedure record.")
        if not may_plan_care(physician, case):
            raise ClinicError(f"Only the physician of case {case.reference} records its procedure.")
        if ProcedureRecord.objects.filter(consultation=locked).exists():
            raise ClinicError("This procedure is already recorded.")
        if locked.state not in RECORDABLE_STATES:
            raise ClinicError(f"This procedure was {locked.get_state_display().lower()}.")
        if locked.state == Consultation.State.BOOKED and not scheduling.check_in_open(locked):
            raise ClinicError("A procedure is recorded on its day, once the patient is in.")
        plan = procedure_plan(case)
        if not plan.options.filter(pk=details.option.pk).exists():
            raise ClinicError(
                f"{details.option.short_name} is not in plan version {plan.version}; "
                "revise the plan first."
            )
        kind = record_kind(details.option)
        _check(details, kind=kind, consultation=locked)
        try:
            with transaction.atomic():
                record = ProcedureRecord.objects.create(
                    case=case,
                    consultation=locked,
                    plan=plan,
                    physician=physician,
                    kind=kind,
                    performed_at=details.performed_at,
                    option=details.option,
                    body_region=details.body_region,
                    side=details.side,
                    guidance=details.guidance,
                    volume_injected_ml=details.volume_injected_ml,
                    harvest_site=details.harvest_site,
                    volume_harvested_ml=details.volume_harvested_ml,
                    nucleated_cells_millions=details.nucleated_cells_millions,
                    product_name=details.product_name.strip(),
                    manufacturer=details.manufacturer.strip(),
                    lot_number=details.lot_number.strip(),
                    lot_expires_on=details.lot_expires_on,
                    complication=details.complication,
                    note=details.note.strip(),
                )
        except IntegrityError as error:
            raise ClinicError("This procedure is already recorded.") from error
        if locked.state != Consultation.State.COMPLETED:
            locked.state = Consultation.State.COMPLETED
            locked.save(update_fields=["state", "updated_at"])
            scheduling._event(
                case,
                kind=CaseEvent.Kind.COMPLETED,
                actor=physician,
                note=locked.consultation_type.name,
            )
        tissue = f", lot {record.lot_number}" if record.lot_number else ""
        scheduling._event(
            case,
            kind=CaseEvent.Kind.TREATED,
            actor=physician,
            note=f"{details.option.short_name}, {record.target.lower()}{tissue}.",
            to=Case.State.TREATED,
        )
        followups_plan(record=record)
    consultation.state = locked.state
    return record


def recordable_procedure(case: Case) -> Consultation | None:
    """Today's procedure of the case that has no record yet (what the form is for)."""
    today = timezone.localdate()
    for consultation in (
        case.consultations.filter(
            consultation_type__slug=PROCEDURE_TYPE,
            state__in=RECORDABLE_STATES,
            procedure_record__isnull=True,
        )
        .select_related("consultation_type")
        .order_by("starts_at")
    ):
        if timezone.localdate(consultation.starts_at) == today:
            return consultation
    return None
