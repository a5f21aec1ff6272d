"""Booking the plan's procedure: the scheduling guarantees, and the Good Faith
Estimate that falls due with the booking."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from care.models import EstimateDue
from care.services import procedures
from clinic.errors import ClinicError
from intake.models import Consultation, Intake
from intake.scheduling import SlotTaken, free_slots
from tests.care.helpers import billing_provider, latest_estimate, shared_plan
from tests.concurrency import race
from tests.factories import UserFactory, case_to_book, working_hours

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(physician, patient):
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    return case_to_book(physician, patient=patient)


def slot(physician, days_ahead: int = 2, index: int = 0):
    return free_slots(
        physician=physician.physician_profile,
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=days_ahead),
        days=5,
    )[index].starts_at


def test_booking_the_procedure_issues_the_estimate_with_its_date(
    case, physician, front_desk
) -> None:
    shared_plan(case, physician, "prp")
    starts_at = slot(physician, days_ahead=20)
    booked = procedures.procedure_book(case=case, starts_at=starts_at, booked_by=front_desk)
    assert booked.consultation_type.slug == "injection-procedure"
    assert (booked.physician, booked.ends_at - booked.starts_at) == (
        physician,
        timedelta(minutes=90),
    )
    case.refresh_from_db()
    assert case.state == "booked"
    due = EstimateDue.objects.get(reason="scheduled")
    assert due.service_on == timezone.localdate(starts_at)
    estimate = latest_estimate(case)
    assert due.fulfilled_by == estimate and estimate.service_date == due.service_on
    assert case.events.filter(kind="booked").last().note.startswith("Injection procedure")


def test_no_procedure_without_a_shared_plan(case, front_desk, physician) -> None:
    with pytest.raises(ClinicError, match="no shared treatment plan"):
        procedures.procedure_book(case=case, starts_at=slot(physician), booked_by=front_desk)


def test_one_procedure_at_a_time_and_no_double_booking(case, physician, front_desk) -> None:
    shared_plan(case, physician, "prp")
    starts_at = slot(physician)
    procedures.procedure_book(case=case, starts_at=starts_at, booked_by=front_desk)
    with pytest.raises(ClinicError, match="already has a procedure"):
        procedures.procedure_book(case=case, starts_at=slot(physician, 3), booked_by=front_desk)
    other = case_to_book(physician, patient=UserFactory.create(role="patient"))
    shared_plan(other, physician, "prp")
    with pytest.raises(SlotTaken):
        procedures.procedure_book(case=other, starts_at=starts_at, booked_by=front_desk)


def test_only_the_front_desk_books(case, physician, patient) -> None:
    shared_plan(case, physician, "prp")
    for outsider in (physician, patient):
        with pytest.raises(ClinicError, match="Only the front desk"):
            procedures.procedure_book(case=case, starts_at=slot(physician), booked_by=outsider)


def test_an_insured_patient_owes_no_estimate_for_the_booking(case, physician, front_desk) -> None:
    Intake.objects.filter(pk=case.intake_id).update(payment=Intake.Payment.INSURANCE)
    shared_plan(case, physician, "prp")
    procedures.procedure_book(case=case, starts_at=slot(physician), booked_by=front_desk)
    assert not EstimateDue.objects.exists()


def test_the_front_desk_books_from_the_estimates_list(
    case, physician, front_desk, patient, login
) -> None:
    shared_plan(case, physician, "prp")
    client = login(front_desk)
    url = reverse("care:procedure_book", args=[case.public_id])
    assert url in client.get(reverse("care:estimates")).content.decode()
    page = client.get(url)
    assert page.status_code == 200 and "Injection procedure" in page.content.decode()
    bad = client.post(url, {"starts_at": "not a time"})
    assert bad.status_code == 200 and "Pick one of the free times" in bad.content.decode()
    response = client.post(url, {"starts_at": slot(physician).isoformat()})
    assert response.status_code == 302
    assert url not in client.get(reverse("care:estimates")).content.decode()
    assert login(patient).get(url).status_code == 403


def test_a_reissued_estimate_keeps_the_separately_scheduled_services(
    case, physician, front_desk
) -> None:
    from care.services import estimates

    shared_plan(case, physician, "prp")
    estimates.estimate_issue(case=case, by=front_desk, separately_scheduled="Knee MRI elsewhere")
    procedures.procedure_book(case=case, starts_at=slot(physician), booked_by=front_desk)
    latest = latest_estimate(case)
    assert latest.service_date is not None
    assert latest.separately_scheduled == "Knee MRI elsewhere"


@pytest.mark.django_db(transaction=True)
def test_two_front_desk_users_booking_one_time_for_two_plans_exactly_one_books(
    physician, patient, other_patient
) -> None:
    """Real parallel connections: the physician's row lock queues the bookings, the
    second re-checks after the first commits and is told the time was taken; the
    same desk booking one plan twice at once books it once."""
    billing_provider()
    working_hours(physician.physician_profile, weekdays=range(7))
    cases = [case_to_book(physician, patient=p) for p in (patient, other_patient)]
    for each in cases:
        shared_plan(each, physician, "prp")
    desks = [UserFactory.create(role="front_desk") for _ in range(2)]
    starts_at = slot(physician)
    results = race(
        lambda i: procedures.procedure_book(case=cases[i], starts_at=starts_at, booked_by=desks[i])
    )
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(refused) == 1 and isinstance(refused[0], SlotTaken), results
    loser = cases[0] if isinstance(results[0], Exception) else cases[1]
    later = slot(physician, 3)
    twice = race(
        lambda i: procedures.procedure_book(case=loser, starts_at=later, booked_by=desks[i])
    )
    assert sum(not isinstance(r, Exception) for r in twice) == 1, twice
    assert Consultation.objects.filter(consultation_type__slug="injection-procedure").count() == 2


def test_moving_the_procedure_reissues_the_estimate_with_the_new_date(
    case, physician, front_desk, login
) -> None:
    """The estimate names the procedure's date (45 CFR 149.610(c)(1)(ii)): a moved
    procedure gets a new estimate with the new date; the first is kept."""
    shared_plan(case, physician, "prp")
    booked = procedures.procedure_book(
        case=case, starts_at=slot(physician, days_ahead=20), booked_by=front_desk
    )
    first = latest_estimate(case)
    issued = case.estimates.count()
    later = slot(physician, days_ahead=30)
    client = login(front_desk)
    url = reverse("frontdesk:reschedule", kwargs={"public_id": booked.public_id})
    assert client.post(url, {"starts_at": later.isoformat()}).status_code == 302
    moved = latest_estimate(case)
    assert moved != first and moved.service_date == timezone.localdate(later)
    assert case.estimates.count() == issued + 1
    first.refresh_from_db()
    assert first.service_date == timezone.localdate(booked.starts_at)
    due = EstimateDue.objects.filter(reason="scheduled").order_by("-opened_at").first()
    assert due is not None and due.service_on == moved.service_date
    assert due.fulfilled_by == moved


def test_moving_a_consultation_that_is_not_the_procedure_issues_no_estimate(
    case, physician, front_desk, login
) -> None:
    from intake.scheduling import consultation_book

    consultation = consultation_book(
        case=case, starts_at=slot(physician, days_ahead=20), booked_by=front_desk
    )
    client = login(front_desk)
    url = reverse("frontdesk:reschedule", kwargs={"public_id": consultation.public_id})
    later = slot(physician, days_ahead=30)
    issued = case.estimates.count()
    assert client.post(url, {"starts_at": later.isoformat()}).status_code == 302
    assert case.estimates.count() == issued
