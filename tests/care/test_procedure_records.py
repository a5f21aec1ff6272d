"""Recording the procedure on its day: what each kind of option must record, the case
moving to "treated", immutability, and the lot report for a recall."""

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from care import selectors
from care.models import ProcedureRecord
from care.services import procedures
from care.services.procedure_records import ProcedureDetails, procedure_record, record_kind
from clinic.errors import ClinicError
from intake.models import Consultation
from intake.scheduling import free_slots
from tests.care.helpers import billing_provider, shared_plan
from tests.factories import case_to_book, working_hours
from treatments.models import BodyRegion, TreatmentOption

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(physician, patient):
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    return case_to_book(physician, patient=patient)


def book(case, physician, front_desk, *slugs: str) -> Consultation:
    harvest = "bone_marrow" if "bone-marrow-stem-cells" in slugs else ""
    shared_plan(case, physician, *slugs, harvest_source=harvest)
    starts_at = free_slots(
        physician=physician.physician_profile,
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=3),
        days=5,
    )[0].starts_at
    return procedures.procedure_book(case=case, starts_at=starts_at, booked_by=front_desk)


def details(consultation: Consultation, slug: str = "prp", **overrides: Any) -> ProcedureDetails:
    values: dict[str, Any] = {
        "performed_at": consultation.starts_at + timedelta(minutes=10),
        "option": TreatmentOption.objects.get(slug=slug),
        "body_region": BodyRegion.objects.get(slug="knee"),
        "side": "left",
        "guidance": "ultrasound",
        "volume_injected_ml": Decimal("5.0"),
    }
    return ProcedureDetails(**(values | overrides))


def allograft(consultation: Consultation) -> ProcedureDetails:
    return details(
        consultation,
        "allograft",
        product_name="Amniotic membrane allograft",
        manufacturer="Example Tissue Bank",
        lot_number="AM-2026-0147",
        lot_expires_on=date(2028, 6, 30),
    )


def on_the_day(consultation: Consultation):
    return time_machine.travel(consultation.starts_at + timedelta(minutes=40), tick=False)


def test_kind_comes_from_the_catalog() -> None:
    kinds = {o.slug: record_kind(o) for o in TreatmentOption.objects.all()}
    assert kinds["prp"] == kinds["dextrose-prolotherapy"] == "injection"
    assert kinds["bone-marrow-stem-cells"] == kinds["adipose-stem-cells"] == "cell_harvest"
    assert kinds["allograft"] == "donor_tissue"


def test_recording_completes_the_procedure_and_the_case_is_treated(
    case, physician, front_desk
) -> None:
    consultation = book(case, physician, front_desk, "prp")
    with on_the_day(consultation):
        record = procedure_record(
            consultation=consultation, physician=physician, details=details(consultation)
        )
    case.refresh_from_db()
    consultation.refresh_from_db()
    assert (case.state, consultation.state) == ("treated", "completed")
    assert record.kind == "injection" and record.plan.version == 1
    kinds = list(case.events.values_list("kind", "from_state", "to_state").order_by("-id")[:2])
    assert kinds == [("treated", "booked", "treated"), ("completed", "booked", "booked")]
    assert "PRP, left knee" in case.events.filter(kind="treated").get().note


def test_recorded_once(case, physician, front_desk) -> None:
    consultation = book(case, physician, front_desk, "prp")
    with on_the_day(consultation):
        procedure_record(
            consultation=consultation, physician=physician, details=details(consultation)
        )
        with pytest.raises(ClinicError, match="already recorded"):
            procedure_record(
                consultation=consultation, physician=physician, details=details(consultation)
            )
    assert ProcedureRecord.objects.count() == 1


def test_not_before_its_day_nor_in_the_future(case, physician, front_desk) -> None:
    consultation = book(case, physician, front_desk, "prp")
    with pytest.raises(ClinicError, match="on its day"):
        procedure_record(
            consultation=consultation, physician=physician, details=details(consultation)
        )
    with on_the_day(consultation), pytest.raises(ClinicError, match="in the future"):
        procedure_record(
            consultation=consultation,
            physician=physician,
            details=details(consultation, performed_at=consultation.starts_at + timedelta(hours=3)),
        )
    with on_the_day(consultation), pytest.raises(ClinicError, match="day it was booked for"):
        procedure_record(
            consultation=consultation,
            physician=physician,
            details=details(consultation, performed_at=consultation.starts_at - timedelta(days=1)),
        )


def test_only_the_cases_physician_and_only_a_planned_option(
    case, physician, other_physician, front_desk
) -> None:
    consultation = book(case, physician, front_desk, "prp")
    colleague = other_physician
    with on_the_day(consultation):
        with pytest.raises(ClinicError, match="Only the physician of case"):
            procedure_record(
                consultation=consultation, physician=colleague, details=details(consultation)
            )
        with pytest.raises(ClinicError, match="Only physicians"):
            procedure_record(
                consultation=consultation, physician=front_desk, details=details(consultation)
            )
        with pytest.raises(ClinicError, match="not in plan version 1"):
            procedure_record(
                consultation=consultation,
                physician=physician,
                details=details(consultation, "dextrose-prolotherapy"),
            )


def test_donor_tissue_needs_its_lot_and_a_date_it_had_not_expired(
    case, physician, front_desk
) -> None:
    consultation = book(case, physician, front_desk, "allograft")
    with on_the_day(consultation):
        with pytest.raises(ClinicError, match="lot or serial number, expiry date"):
            procedure_record(
                consultation=consultation,
                physician=physician,
                details=replace(allograft(consultation), lot_number="", lot_expires_on=None),
            )
        with pytest.raises(ClinicError, match="expired on"):
            procedure_record(
                consultation=consultation,
                physician=physician,
                details=replace(
                    allograft(consultation),
                    lot_expires_on=timezone.localdate(consultation.starts_at) - timedelta(days=1),
                ),
            )
        record = procedure_record(
            consultation=consultation, physician=physician, details=allograft(consultation)
        )
    assert (record.kind, record.lot_number) == ("donor_tissue", "AM-2026-0147")


def test_lot_only_for_donor_tissue_and_harvest_only_for_cells(case, physician, front_desk) -> None:
    consultation = book(case, physician, front_desk, "prp")
    with on_the_day(consultation):
        with pytest.raises(ClinicError, match="only for donor tissue"):
            procedure_record(
                consultation=consultation,
                physician=physician,
                details=details(consultation, lot_number="X1"),
            )
        with pytest.raises(ClinicError, match="only for bone-marrow"):
            procedure_record(
                consultation=consultation,
                physician=physician,
                details=details(consultation, harvest_site="abdomen"),
            )


def test_a_harvest_records_site_and_volume(case, physician, front_desk) -> None:
    consultation = book(case, physician, front_desk, "bone-marrow-stem-cells")
    option = "bone-marrow-stem-cells"
    with on_the_day(consultation):
        with pytest.raises(ClinicError, match="where the cells were harvested"):
            procedure_record(
                consultation=consultation,
                physician=physician,
                details=details(consultation, option),
            )
        record = procedure_record(
            consultation=consultation,
            physician=physician,
            details=details(
                consultation,
                option,
                harvest_site="iliac_both",
                volume_harvested_ml=Decimal("60.0"),
                nucleated_cells_millions=Decimal("1250.5"),
            ),
        )
    assert record.kind == "cell_harvest" and record.volume_harvested_ml == Decimal("60.0")


def test_a_complication_is_described(case, physician, front_desk) -> None:
    consultation = book(case, physician, front_desk, "prp")
    with on_the_day(consultation), pytest.raises(ClinicError, match="Describe the complication"):
        procedure_record(
            consultation=consultation,
            physician=physician,
            details=details(consultation, complication="vasovagal"),
        )


def test_the_database_keeps_the_record_as_written(case, physician, front_desk) -> None:
    consultation = book(case, physician, front_desk, "allograft")
    with on_the_day(consultation):
        record = procedure_record(
            consultation=consultation, physician=physician, details=allograft(consultation)
        )
    for statement in (
        "UPDATE care_procedurerecord SET lot_number = 'OTHER' WHERE id = %s",
        "DELETE FROM care_procedurerecord WHERE id = %s",
    ):
        with (
            pytest.raises(Exception, match="procedure_record_immutable"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(statement, [record.pk])
    with pytest.raises(IntegrityError, match="donor_tissue_traceable"), transaction.atomic():
        ProcedureRecord.objects.bulk_create(
            [
                ProcedureRecord(
                    case=record.case,
                    consultation=record.consultation,
                    plan=record.plan,
                    physician=physician,
                    performed_at=record.performed_at,
                    option=record.option,
                    kind="donor_tissue",
                    body_region=record.body_region,
                    side="left",
                    guidance="ultrasound",
                    volume_injected_ml=Decimal("2.0"),
                )
            ]
        )


def test_the_lot_report_finds_every_patient_of_a_lot(
    case, physician, front_desk, other_patient
) -> None:
    first = book(case, physician, front_desk, "allograft")
    second_case = case_to_book(physician, patient=other_patient)
    second = book(second_case, physician, front_desk, "allograft")
    with on_the_day(first):
        procedure_record(consultation=first, physician=physician, details=allograft(first))
    with on_the_day(second):
        procedure_record(
            consultation=second,
            physician=physician,
            details=replace(allograft(second), lot_number="am-2026-0147 "),
        )
    found = list(selectors.lot_recipients(" AM-2026-0147"))
    assert [r.case.patient for r in found] == [case.patient, other_patient]
    assert list(selectors.lot_recipients("AM-2026")) == []


@pytest.mark.django_db(transaction=True)
def test_recording_while_the_front_desk_completes_queues_up(physician, patient, front_desk) -> None:
    """Real parallel connections: the physician records while the front desk completes
    the same checked-in procedure. Both take the consultation's row before the case's,
    so one waits for the other (no deadlock): the record is written, and the desk's
    completion either came first or is refused as already done."""
    from intake.scheduling import consultation_move
    from tests.concurrency import race

    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    consultation = book(case_to_book(physician, patient=patient), physician, front_desk, "prp")
    with on_the_day(consultation):
        consultation_move(consultation=consultation, action="check_in", by=front_desk)
        results = race(
            lambda i: (
                procedure_record(
                    consultation=consultation, physician=physician, details=details(consultation)
                )
                if i == 0
                else consultation_move(consultation=consultation, action="complete", by=front_desk)
            )
        )
    assert isinstance(results[0], ProcedureRecord), results
    assert not isinstance(results[1], Exception) or isinstance(results[1], ClinicError), results
    consultation.refresh_from_db()
    assert consultation.state == "completed"
    assert consultation.case.events.filter(kind="completed").count() == 1


def test_a_treated_case_leaves_the_front_desks_list_of_procedures_to_book(
    case, physician, front_desk
) -> None:
    from tests.care.followup_helpers import treat

    shared_plan(case, physician, "prp")
    today = timezone.localdate()
    assert case in selectors.front_desk_estimates(today=today).to_book
    treat(case, physician, front_desk)
    assert case not in selectors.front_desk_estimates(today=today).to_book
