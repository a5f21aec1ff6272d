"""The physician's treatment plan: drafting it, adjusting its charges, sharing it
with the patient, and starting the next version.

A draft belongs to the case's physician and changes in place. Sharing freezes it
(the database refuses any later change, see ``care.models``); a change after that
is a new version, copied from the shared one, with the reason. Sharing a plan with a
self-pay patient issues its Good Faith Estimate in the same transaction, so a
changed plan always re-issues the estimate.

Every function locks the case row first, so two tabs of one physician cannot
write two drafts or share twice: the second sees the first one's result.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.utils import timezone

from care.models import BillableItem, CareEvent, PlanItem, PlannedOption, TreatmentPlan
from clinic.errors import ClinicError
from clinic.models import User
from clinic.policy import may_plan_care, require_physician
from intake.models import Case, Complaint
from treatments.models import BodyRegion, Condition, TreatmentOption

# After a candidate decision: a consultation to book, booked, or held.
PLANNABLE_STATES = frozenset({Case.State.CONSULT_REQUESTED, Case.State.BOOKED, Case.State.TREATED})
HARVESTED = {
    "bone-marrow-stem-cells": TreatmentPlan.HarvestSource.BONE_MARROW,
    "adipose-stem-cells": TreatmentPlan.HarvestSource.ADIPOSE,
}


@dataclass(frozen=True)
class PlanDraft:
    options: Sequence[TreatmentOption]
    body_region: BodyRegion
    side: str
    condition: Condition | None
    icd10_code: str
    sessions: int
    weeks_between_sessions: int
    guidance: str
    harvest_source: str = ""
    note_to_patient: str = ""


def _lock_case(case: Case, physician: User) -> Case:
    require_physician(physician)
    locked = Case.objects.select_for_update().get(pk=case.pk)
    if not may_plan_care(physician, locked):
        raise ClinicError(f"Only the physician of case {locked.reference} can write its plan.")
    if locked.state not in PLANNABLE_STATES:
        raise ClinicError(
            f"A plan is written once the patient is a candidate; case {locked.reference} is "
            f"{locked.get_state_display().lower()}."
        )
    return locked


def _event(case: Case, kind: CareEvent.Kind, actor: User | None, note: str = "") -> None:
    CareEvent.objects.create(case=case, kind=kind, actor=actor, note=note)


def _check(draft: PlanDraft) -> None:
    from care.models import ICD10_CM

    if not draft.options:
        raise ClinicError("Choose at least one treatment option.")
    if any(not option.is_offered for option in draft.options):
        raise ClinicError("One of the chosen options is no longer offered.")
    if draft.side not in Complaint.Side.values:
        raise ClinicError("Choose the side.")
    if draft.guidance not in TreatmentPlan.Guidance.values:
        raise ClinicError("Choose the image guidance.")
    if not 1 <= draft.sessions <= 12:
        raise ClinicError("The number of sessions is between 1 and 12.")
    if not 0 <= draft.weeks_between_sessions <= 52:
        raise ClinicError("The weeks between sessions are between 0 and 52.")
    if draft.sessions > 1 and draft.weeks_between_sessions == 0:
        raise ClinicError("Say how many weeks apart the sessions are.")
    try:
        ICD10_CM(draft.icd10_code)
    except Exception as error:  # Django's ValidationError, with its message
        raise ClinicError("Enter the ICD-10-CM code, e.g. M17.12.") from error
    harvests = {HARVESTED[o.slug] for o in draft.options if o.slug in HARVESTED}
    if harvests and draft.harvest_source not in harvests:
        raise ClinicError("Choose where the cells are harvested from for the chosen option.")
    if not harvests and draft.harvest_source:
        raise ClinicError("A harvest source is only for bone-marrow or fat-derived options.")


def _fields(draft: PlanDraft) -> dict[str, object]:
    return {
        "body_region": draft.body_region,
        "side": draft.side,
        "condition": draft.condition,
        "icd10_code": draft.icd10_code.strip().upper(),
        "sessions": draft.sessions,
        "weeks_between_sessions": draft.weeks_between_sessions,
        "guidance": draft.guidance,
        "harvest_source": draft.harvest_source,
        "note_to_patient": draft.note_to_patient.strip(),
    }


def _copy_items(plan: TreatmentPlan, options: Sequence[TreatmentOption]) -> None:
    """The catalog's default billable items of ``options``, at today's prices."""
    start = (plan.items.order_by("-position").values_list("position", flat=True).first()) or 0
    items = BillableItem.objects.filter(
        option__in=options, is_active=True, included_by_default=True
    ).select_related("option")
    PlanItem.objects.bulk_create(
        PlanItem(
            plan=plan,
            option=item.option,
            billable_item=item,
            description=item.description,
            code_system=item.code_system,
            code=item.code,
            quantity=1,
            catalog_unit_price=item.cash_price,
            price_is_example=item.price_is_example,
            charge=item.cash_price,
            position=start + index,
        )
        for index, item in enumerate(items, start=1)
    )


def _set_options(plan: TreatmentPlan, options: Sequence[TreatmentOption]) -> None:
    """Options added bring their catalog items; options dropped take theirs away;
    options kept keep their (possibly adjusted) lines."""
    wanted = {option.pk: option for option in options}
    current = set(plan.planned.values_list("option_id", flat=True))
    dropped = current - wanted.keys()
    if dropped:
        plan.planned.filter(option_id__in=dropped).delete()
        plan.items.filter(option_id__in=dropped).delete()
    added = [wanted[pk] for pk in wanted.keys() - current]
    PlannedOption.objects.bulk_create(PlannedOption(plan=plan, option=o) for o in added)
    _copy_items(plan, added)


def plan_draft_save(*, case: Case, physician: User, draft: PlanDraft) -> TreatmentPlan:
    """Writes the case's draft plan: the first version, or changes to the draft in
    progress. Billable items come from the catalog for each option."""
    _check(draft)
    with transaction.atomic():
        locked = _lock_case(case, physician)
        plan = locked.treatment_plans.filter(shared_at__isnull=True).first()
        if plan is None:
            if locked.treatment_plans.exists():
                raise ClinicError("The plan was shared; start a new version to change it.")
            plan = TreatmentPlan.objects.create(
                case=locked, version=1, physician=physician, **_fields(draft)
            )
            _event(locked, CareEvent.Kind.PLAN_WRITTEN, physician, f"Version {plan.version}.")
        else:
            for name, value in _fields(draft).items():
                setattr(plan, name, value)
            plan.physician = physician
            plan.save()
            _event(locked, CareEvent.Kind.PLAN_CHANGED, physician, f"Version {plan.version}.")
        _set_options(plan, draft.options)
    return plan


def plan_item_adjust(
    *, item: PlanItem, physician: User, quantity: int, charge: str | Decimal, reason: str
) -> PlanItem:
    """The physician changes a line's quantity or charge on a draft. A charge other
    than the catalog price times the quantity needs a reason (kept on the line)."""
    try:
        amount = Decimal(str(charge).replace(",", "").replace("$", "").strip())
    except InvalidOperation:
        raise ClinicError("Enter the charge in dollars, e.g. 1250.00.") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise ClinicError("Enter the charge in dollars and cents, not below zero.")
    if amount >= Decimal("100000000"):
        raise ClinicError("That charge is too large.")
    if not 1 <= quantity <= 99:
        raise ClinicError("The quantity is between 1 and 99.")
    reason = reason.strip()
    with transaction.atomic():
        locked_item = PlanItem.objects.select_related("plan").get(pk=item.pk)
        locked = _lock_case(locked_item.plan.case, physician)
        locked_item = PlanItem.objects.select_for_update().select_related("plan").get(pk=item.pk)
        if locked_item.plan.is_shared:
            raise ClinicError("The plan was shared; start a new version to change it.")
        if amount != locked_item.catalog_unit_price * quantity and not reason:
            raise ClinicError("Give the reason for a charge that differs from the clinic's price.")
        locked_item.quantity, locked_item.charge = quantity, amount
        locked_item.adjustment_reason = (
            reason if amount != locked_item.catalog_unit_price * quantity else ""
        )
        locked_item.save(update_fields=["quantity", "charge", "adjustment_reason"])
        _event(
            locked,
            CareEvent.Kind.ITEM_ADJUSTED,
            physician,
            f"{locked_item.description}: {quantity} x, ${amount}"
            + (f" ({locked_item.adjustment_reason})" if locked_item.adjustment_reason else ""),
        )
    return locked_item


def plan_share(*, plan: TreatmentPlan, physician: User) -> TreatmentPlan:
    """Shows the draft to the patient and freezes it. A self-pay patient's Good
    Faith Estimate is issued from it at once (see ``estimate_issue``)."""
    from care.services.estimates import estimate_issue, needs_estimate

    with transaction.atomic():
        locked_case = _lock_case(plan.case, physician)
        locked = TreatmentPlan.objects.select_for_update().get(pk=plan.pk)
        if locked.is_shared:
            raise ClinicError("This plan version was already shared.")
        if not locked.items.exists():
            raise ClinicError("The plan has no items; add an option with billable items.")
        locked.shared_at = timezone.now()
        locked.save(update_fields=["shared_at", "updated_at"])
        _event(locked_case, CareEvent.Kind.PLAN_SHARED, physician, f"Version {locked.version}.")
        if needs_estimate(locked_case):
            estimate_issue(case=locked_case, by=physician)
    return locked


def plan_revise(*, plan: TreatmentPlan, physician: User, reason: str) -> TreatmentPlan:
    """Starts the next version as a draft, a copy of the shared ``plan`` with its
    lines as they were; the shared version stays as it is."""
    reason = reason.strip()
    if not reason:
        raise ClinicError("Say why the plan changes (kept with the new version).")
    with transaction.atomic():
        locked_case = _lock_case(plan.case, physician)
        latest = locked_case.treatment_plans.order_by("-version").first()
        if latest is None or latest.pk != plan.pk or not latest.is_shared:
            raise ClinicError("Only the latest shared version can be revised.")
        fields = {
            name: getattr(latest, name)
            for name in (
                "body_region_id",
                "side",
                "condition_id",
                "icd10_code",
                "sessions",
                "weeks_between_sessions",
                "guidance",
                "harvest_source",
                "note_to_patient",
            )
        }
        new = TreatmentPlan.objects.create(
            case=locked_case,
            version=latest.version + 1,
            physician=physician,
            change_reason=reason,
            **fields,
        )
        PlannedOption.objects.bulk_create(
            PlannedOption(plan=new, option_id=pk)
            for pk in latest.planned.values_list("option_id", flat=True)
        )
        PlanItem.objects.bulk_create(
            PlanItem(
                plan=new,
                option_id=item.option_id,
                billable_item_id=item.billable_item_id,
                description=item.description,
                code_system=item.code_system,
                code=item.code,
                quantity=item.quantity,
                catalog_unit_price=item.catalog_unit_price,
                price_is_example=item.price_is_example,
                charge=item.charge,
                adjustment_reason=item.adjustment_reason,
                position=item.position,
            )
            for item in latest.items.all()
        )
        _event(locked_case, CareEvent.Kind.PLAN_REVISED, physician, reason)
    return new


def current_plan(case: Case) -> TreatmentPlan | None:
    """What the patient sees: the latest shared version."""
    return case.treatment_plans.shared().order_by("-version").first()


def draft_plan(case: Case) -> TreatmentPlan | None:
    return case.treatment_plans.filter(shared_at__isnull=True).first()


def plan_defaults(case: Case) -> dict[str, object]:
    """A new plan starts from the case's main complaint: region, side, condition
    and the condition's ICD-10-CM category code."""
    complaint = case.main_complaint
    if complaint is None:
        return {}
    condition = complaint.condition
    return {
        "body_region": complaint.body_region_id,
        "side": complaint.side,
        "condition": condition.pk if condition else None,
        "icd10_code": condition.icd10_code if condition else "",
    }
