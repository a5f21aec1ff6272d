"""The treatment plan: who writes it and when, its items from the catalog, charges
adjusted only with a reason, and versions that are never edited once shared."""

from decimal import Decimal

import pytest
from django.apps import apps
from django.db import DatabaseError, IntegrityError, transaction

from care.models import BillableItem, CareEvent, PlanItem, PlannedOption, TreatmentPlan
from care.services import plans
from clinic.errors import ClinicError
from intake import cases
from tests.care.helpers import billing_provider, draft
from tests.factories import case_to_book, submitted_case
from treatments.models import TreatmentOption

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(physician, patient):
    billing_provider()
    return case_to_book(physician, patient=patient)


def test_the_cases_physician_drafts_a_plan_with_the_catalogs_items(case, physician) -> None:
    plan = plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))
    assert (plan.version, plan.is_shared, plan.icd10_code) == (1, False, "M17.12")
    assert list(plan.options.values_list("slug", flat=True)) == ["prp"]
    [item] = plan.items.all()
    assert (item.code_system, item.code, item.charge) == ("cpt", "0232T", Decimal("1200.00"))
    assert item.price_is_example and not item.is_adjusted
    assert list(case.care_events.values_list("kind", flat=True)) == ["plan_written"]
    history = apps.get_model("care", "TreatmentPlanHistory")
    assert history.objects.filter(pgh_obj=plan).count() == 1  # pghistory's insert


def test_items_not_included_by_default_are_left_out(case, physician) -> None:
    plan = plans.plan_draft_save(
        case=case, physician=physician, draft=draft("dextrose-prolotherapy")
    )
    assert list(plan.items.values_list("code", flat=True)) == ["20610"]


def test_changing_the_draft_brings_and_drops_the_options_items(case, physician) -> None:
    plan = plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))
    item = plan.items.get()
    plans.plan_item_adjust(
        item=item, physician=physician, quantity=1, charge="1000", reason="Package price"
    )
    plan = plans.plan_draft_save(
        case=case,
        physician=physician,
        draft=draft("prp", "bone-marrow-stem-cells", harvest_source="bone_marrow"),
    )
    codes = sorted(plan.items.values_list("code", flat=True))
    assert codes == ["", "0232T", "20611", "38220"]
    assert plan.items.get(code="0232T").charge == Decimal("1000.00")  # kept as adjusted
    plan = plans.plan_draft_save(
        case=case,
        physician=physician,
        draft=draft("bone-marrow-stem-cells", harvest_source="bone_marrow"),
    )
    assert sorted(plan.items.values_list("code", flat=True)) == ["", "20611", "38220"]
    assert TreatmentPlan.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"options": []}, "at least one"),
        ({"icd10_code": "knee pain"}, "ICD-10-CM"),
        ({"icd10_code": "U07.1"}, "ICD-10-CM"),  # U codes are not in the pattern
        ({"sessions": 0}, "between 1 and 12"),
        ({"sessions": 3, "weeks_between_sessions": 0}, "weeks apart"),
        ({"guidance": "x-ray vision"}, "guidance"),
        ({"harvest_source": "adipose"}, "only for bone-marrow"),
    ],
)
def test_a_plan_that_does_not_add_up_is_refused(case, physician, overrides, message) -> None:
    with pytest.raises(ClinicError, match=message):
        plans.plan_draft_save(case=case, physician=physician, draft=draft("prp", **overrides))
    assert not TreatmentPlan.objects.exists()


def test_a_harvest_needs_its_source(case, physician) -> None:
    with pytest.raises(ClinicError, match="harvested"):
        plans.plan_draft_save(case=case, physician=physician, draft=draft("adipose-stem-cells"))
    with pytest.raises(ClinicError, match="harvested"):
        plans.plan_draft_save(
            case=case,
            physician=physician,
            draft=draft("adipose-stem-cells", harvest_source="bone_marrow"),
        )


def test_only_the_cases_own_physician_writes_the_plan(case, other_physician, front_desk) -> None:
    with pytest.raises(ClinicError, match="Only the physician"):
        plans.plan_draft_save(case=case, physician=other_physician, draft=draft())
    with pytest.raises(ClinicError, match="Only physicians"):
        plans.plan_draft_save(case=case, physician=front_desk, draft=draft())


def test_no_plan_before_the_patient_is_a_candidate(physician, patient) -> None:
    case = submitted_case(patient)
    cases.case_claim(case=case, physician=physician)
    with pytest.raises(ClinicError, match="once the patient is a candidate"):
        plans.plan_draft_save(case=case, physician=physician, draft=draft())


def test_a_charge_differing_from_the_catalog_needs_a_reason(case, physician) -> None:
    plan = plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))
    item = plan.items.get()
    with pytest.raises(ClinicError, match="reason"):
        plans.plan_item_adjust(item=item, physician=physician, quantity=1, charge="900", reason="")
    for bad in ("twelve", "-5", "10.001", "NaN"):
        with pytest.raises(ClinicError, match="dollars"):
            plans.plan_item_adjust(
                item=item, physician=physician, quantity=1, charge=bad, reason="x"
            )
    # Two of the catalog's price needs no reason.
    two = plans.plan_item_adjust(
        item=item, physician=physician, quantity=2, charge="2400.00", reason="ignored"
    )
    assert (two.charge, two.adjustment_reason, two.is_adjusted) == (Decimal("2400.00"), "", False)
    cheaper = plans.plan_item_adjust(
        item=item, physician=physician, quantity=1, charge="$1,000", reason="Second knee"
    )
    assert (cheaper.charge, cheaper.adjustment_reason) == (Decimal("1000.00"), "Second knee")
    assert CareEvent.objects.filter(kind="item_adjusted").count() == 2


def test_the_database_refuses_an_adjusted_charge_without_a_reason(case, physician) -> None:
    plan = plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanItem.objects.filter(plan=plan).update(charge=Decimal("1.00"))


def test_a_shared_plan_is_frozen_and_a_change_is_a_new_version(case, physician) -> None:
    plan = plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))
    plans.plan_item_adjust(
        item=plan.items.get(), physician=physician, quantity=1, charge="1100", reason="Returning"
    )
    shared = plans.plan_share(plan=plan, physician=physician)
    assert shared.is_shared and plans.current_plan(case) == shared
    with pytest.raises(ClinicError, match="new version"):
        plans.plan_draft_save(case=case, physician=physician, draft=draft("allograft"))
    with pytest.raises(ClinicError, match="new version"):
        plans.plan_item_adjust(
            item=plan.items.get(), physician=physician, quantity=1, charge="1", reason="x"
        )
    with pytest.raises(ClinicError, match="already shared"):
        plans.plan_share(plan=plan, physician=physician)
    with pytest.raises(ClinicError, match="why"):
        plans.plan_revise(plan=shared, physician=physician, reason=" ")

    second = plans.plan_revise(plan=shared, physician=physician, reason="Add a second session")
    assert (second.version, second.is_shared, second.change_reason) == (
        2,
        False,
        "Add a second session",
    )
    [copied] = second.items.all()
    assert (copied.charge, copied.adjustment_reason) == (Decimal("1100.00"), "Returning")
    second = plans.plan_draft_save(
        case=case, physician=physician, draft=draft("prp", sessions=2, weeks_between_sessions=6)
    )
    assert second.version == 2 and plans.current_plan(case) == shared  # v2 still a draft
    with pytest.raises(ClinicError, match="latest shared"):
        plans.plan_revise(plan=shared, physician=physician, reason="Again")
    plans.plan_share(plan=second, physician=physician)
    assert plans.current_plan(case) == second
    shared.refresh_from_db()
    assert (shared.sessions, shared.items.get().charge) == (1, Decimal("1100.00"))
    assert list(case.care_events.values_list("kind", flat=True)) == [
        "plan_written",
        "item_adjusted",
        "plan_shared",
        "estimate_issued",
        "plan_revised",
        "plan_changed",
        "plan_shared",
        "estimate_issued",
    ]


def test_the_database_keeps_a_shared_plan_as_it_was(case, physician) -> None:
    plan = plans.plan_share(
        plan=plans.plan_draft_save(case=case, physician=physician, draft=draft("prp")),
        physician=physician,
    )
    item = plan.items.get()
    attempts = [
        lambda: TreatmentPlan.objects.filter(pk=plan.pk).update(sessions=5),
        lambda: TreatmentPlan.objects.filter(pk=plan.pk).delete(),
        lambda: PlanItem.objects.filter(pk=item.pk).update(charge=item.charge, quantity=1),
        lambda: PlanItem.objects.filter(pk=item.pk).delete(),
        lambda: PlanItem.objects.create(
            plan=plan,
            option=item.option,
            description="Extra",
            catalog_unit_price=1,
            charge=1,
            position=9,
        ),
        lambda: PlannedOption.objects.create(
            plan=plan, option=TreatmentOption.objects.get(slug="allograft")
        ),
        lambda: PlannedOption.objects.filter(plan=plan).delete(),
    ]
    for attempt in attempts:
        with pytest.raises(DatabaseError), transaction.atomic():
            attempt()
    plan.refresh_from_db()
    assert plan.sessions == 1 and plan.items.count() == 1


def test_the_draft_of_a_case_is_one_row(case, physician) -> None:
    plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))
    with pytest.raises(IntegrityError), transaction.atomic():
        TreatmentPlan.objects.create(
            case=case,
            version=2,
            physician=physician,
            body_region_id=case.body_region_id,
            side="left",
            icd10_code="M17.12",
            sessions=1,
            guidance="ultrasound",
            change_reason="second draft",
        )


def test_a_price_change_in_the_catalog_leaves_plans_alone(case, physician) -> None:
    plan = plans.plan_draft_save(case=case, physician=physician, draft=draft("prp"))
    BillableItem.objects.filter(code="0232T").update(cash_price=Decimal("1500.00"))
    assert plan.items.get().charge == Decimal("1200.00")


def test_plan_defaults_come_from_the_main_complaint(case) -> None:
    defaults = plans.plan_defaults(case)
    assert defaults["side"] == "left" and defaults["body_region"] == case.body_region_id
