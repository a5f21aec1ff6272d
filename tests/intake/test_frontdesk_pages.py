"""The front desk's pages (issue 5), the patient's consultations on their intake page
and the physician's calendar: who may open what, booking and its refusals through
HTTP, the changes to a booked consultation, patients' requests, incomplete intakes
and their reminders, and query counts that do not grow with the rows."""

from datetime import UTC, datetime, time, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.models import OutboundEmail
from clinic.roles import Role
from intake import services
from intake.models import (
    Case,
    Consultation,
    ConsultationChangeRequest,
    ConsultationType,
    Intake,
)
from intake.scheduling import consultation_book, consultation_change_request, free_slots
from tests.factories import (
    PhysicianFactory,
    UserFactory,
    case_to_book,
    intake_ready_to_sign,
    working_hours,
)


@pytest.fixture(autouse=True)
def _eight_in_the_morning(time_machine):
    """The pages are seen at 08:00 today (the clock ticks from there), so today's
    free slots do not depend on the hour the tests run at."""
    today = timezone.localdate()
    time_machine.move_to(at_clinic(today, 8).astimezone(UTC))


def at_clinic(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=timezone.get_current_timezone())


@pytest.fixture
def open_every_day(physician):
    """Working hours every day of the week, so there are free slots whatever today is."""
    working_hours(physician.physician_profile, weekdays=range(7), location="Room 2")


@pytest.fixture
def case(physician, patient, open_every_day):
    return case_to_book(physician, patient=patient)


def first_free(case, *, skip=0):
    slots = free_slots(
        physician=case.assigned_to.physician_profile,
        consultation_type=ConsultationType.objects.get(slug="new-consultation"),
        start_day=timezone.localdate() + timedelta(days=1),
        days=7,
    )
    return slots[skip].starts_at


@pytest.fixture
def consultation(case, front_desk):
    return consultation_book(case=case, starts_at=first_free(case), booked_by=front_desk)


def url(name, *args):
    return reverse(name, args=[getattr(arg, "public_id", arg) for arg in args])


def front_desk_urls(case, consultation, change):
    gets = [
        url("frontdesk:home"),
        url("frontdesk:day"),
        url("frontdesk:incomplete"),
        url("frontdesk:book", case),
        url("frontdesk:consultation", consultation),
        url("frontdesk:reschedule", consultation),
    ]
    posts = [
        url("frontdesk:book", case),
        url("frontdesk:reschedule", consultation),
        url("frontdesk:check_in", consultation),
        url("frontdesk:complete", consultation),
        url("frontdesk:no_show", consultation),
        url("frontdesk:cancel", consultation),
        url("frontdesk:request_handled", change),
        url("frontdesk:incomplete_remind", case.intake),
    ]
    return gets, posts


@pytest.fixture
def change(consultation, patient):
    return consultation_change_request(consultation=consultation, patient=patient, kind="cancel")


# --- Who may open what ---------------------------------------------------------------------


def test_visitors_are_sent_to_log_in(client, case, consultation, change):
    gets, posts = front_desk_urls(case, consultation, change)
    for address in gets + posts:
        response = client.post(address) if address in posts else client.get(address)
        assert response.status_code == 302, address
        assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("persona", ["patient", "physician", "other_physician"])
def test_patients_and_physicians_cannot_open_the_front_desk(
    request, login, case, consultation, change, persona
):
    client = login(request.getfixturevalue(persona))
    gets, posts = front_desk_urls(case, consultation, change)
    for address in gets:
        assert client.get(address).status_code == 403, address
    for address in posts:
        assert client.post(address, {"starts_at": first_free(case, skip=8)}).status_code == 403
    consultation.refresh_from_db()
    assert (consultation.state, consultation.sequence) == (Consultation.State.BOOKED, 0)
    assert Consultation.objects.count() == 1


@pytest.mark.parametrize("persona", ["front_desk", "clinic_admin"])
def test_the_front_desk_and_admins_open_every_page(
    request, login, case, consultation, change, persona
):
    client = login(request.getfixturevalue(persona))
    # ``case`` is booked already (its page sends the desk back); book another one.
    gets, _ = front_desk_urls(case_to_book(case.assigned_to), consultation, change)
    for address in gets:
        response = client.get(address)
        assert response.status_code == 200, address


def test_wrong_methods_and_unknown_ids(login, front_desk, case, consultation, change):
    client = login(front_desk)
    for name in ["check_in", "complete", "no_show", "cancel"]:
        assert client.get(url(f"frontdesk:{name}", consultation)).status_code == 405
    assert client.get(url("frontdesk:request_handled", change)).status_code == 405
    assert client.get(url("frontdesk:incomplete_remind", case.intake)).status_code == 405
    assert client.post(url("frontdesk:day")).status_code == 405
    assert client.put(url("frontdesk:book", case)).status_code == 405
    unknown = "00000000-0000-4000-8000-000000000000"
    for name in ["book", "consultation", "reschedule"]:
        assert client.get(reverse(f"frontdesk:{name}", args=[unknown])).status_code == 404
    for name in ["book", "reschedule", "cancel", "check_in", "request_handled"]:
        assert client.post(reverse(f"frontdesk:{name}", args=[unknown])).status_code == 404
    assert client.post(reverse("frontdesk:incomplete_remind", args=[unknown])).status_code == 404


def test_the_front_desk_sees_contact_details_but_no_clinical_answers(
    login, front_desk, case, consultation
):
    intake = case.intake
    intake.current_medicines = "Warfarin-canary 5 mg"
    intake.save(update_fields=["current_medicines"])
    client = login(front_desk)
    for address in [url("frontdesk:book", case_to_book(case.assigned_to)), url("frontdesk:day")]:
        body = client.get(address).content.decode()
        assert "Warfarin-canary" not in body and "Hiking again" not in body
    body = client.get(url("frontdesk:consultation", consultation)).content.decode()
    assert intake.legal_name in body and intake.phone.as_national in body
    assert "Warfarin-canary" not in body and "Hiking again" not in body


# --- To schedule and booking -----------------------------------------------------------------


def test_to_schedule_lists_each_case_with_a_book_link_in_constant_queries(
    login, front_desk, physician, open_every_day
):
    client = login(front_desk)
    first = case_to_book(physician)
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("frontdesk:home"))
    assert url("frontdesk:book", first) in response.content.decode()
    for _ in range(5):
        case_to_book(physician)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("frontdesk:home"))
    assert response.content.decode().count(">Book<span") == 6
    assert len(many) == len(few)


def test_the_booking_page_offers_the_patient_s_preferred_times_first(login, front_desk, case):
    # The factory's patient prefers Monday mornings.
    response = login(front_desk).get(url("frontdesk:book", case))
    suggested = response.context["suggested"]
    assert suggested and all(
        s.local_start.weekday() == 0 and s.local_start.hour < 12 for s in suggested
    )
    assert response.context["by_day"][0][0] == timezone.localdate()  # every day, from today
    body = response.content.decode()
    assert "New consultation (45 min), in person" in body
    assert "Suggested: early times the patient prefers" in body


def test_booking_a_slot_books_it_and_goes_to_the_consultation(login, front_desk, case):
    starts_at = first_free(case, skip=3)
    response = login(front_desk).post(
        url("frontdesk:book", case), {"starts_at": starts_at.isoformat()}
    )
    consultation = Consultation.objects.get(case=case)
    assert response.status_code == 302
    assert response["Location"] == url("frontdesk:consultation", consultation)
    assert (consultation.starts_at, consultation.location) == (starts_at, "Room 2")
    case.refresh_from_db()
    assert case.state == Case.State.BOOKED
    page = login(front_desk).get(response["Location"])
    assert "Booked " in page.content.decode()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "Pick one of the free times."),
        ("tomorrow at ten", "Pick one of the free times."),
        ("99999-01-01T10:00:00", "Pick one of the free times."),
        ("2020-01-06T10:00:00+00:00", "in the past"),
        ("<script>alert(1)</script>", "Pick one of the free times."),
    ],
)
def test_a_bad_slot_is_refused_on_the_page(login, front_desk, case, value, message):
    response = login(front_desk).post(url("frontdesk:book", case), {"starts_at": value})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert response.context["by_day"]  # fresh slots to pick from
    assert not Consultation.objects.exists()


def test_a_slot_taken_meanwhile_says_so_and_shows_fresh_slots(login, front_desk, physician, case):
    taken = first_free(case)
    other = case_to_book(physician)
    consultation_book(case=other, starts_at=taken, booked_by=front_desk)
    response = login(front_desk).post(url("frontdesk:book", case), {"starts_at": taken.isoformat()})
    assert response.status_code == 409
    assert "That time was just taken; please pick another." in response.content.decode()
    offered = [s.starts_at for _, slots in response.context["by_day"] for s in slots]
    assert offered and taken not in offered


def test_a_case_already_booked_goes_back_to_the_list(login, front_desk, case, consultation):
    response = login(front_desk).get(url("frontdesk:book", case), follow=True)
    assert response.redirect_chain[-1][0] == reverse("frontdesk:home")
    assert "is not waiting for a booking" in response.content.decode()


def test_a_crafted_time_beyond_the_horizon_or_too_soon_is_refused_on_the_page(
    login, front_desk, case, settings
):
    today = timezone.localdate()
    client = login(front_desk)
    months_ahead = at_clinic(today + timedelta(days=settings.BOOKING_HORIZON_DAYS + 90), 10)
    in_three_minutes = timezone.now() + timedelta(minutes=3)
    for crafted, message in [(months_ahead, "too far ahead"), (in_three_minutes, "too soon")]:
        response = client.post(url("frontdesk:book", case), {"starts_at": crafted.isoformat()})
        assert response.status_code == 200
        assert message in response.content.decode()
        assert response.context["by_day"]
    assert not Consultation.objects.exists()


def test_the_booking_page_pages_up_to_the_horizon_and_no_further(login, front_desk, case, settings):
    settings.BOOKING_HORIZON_DAYS = 20
    today = timezone.localdate()
    client = login(front_desk)
    first = client.get(url("frontdesk:book", case)).context
    assert (first["start_day"], first["end_day"]) == (today, today + timedelta(days=13))
    assert first["later"] == today + timedelta(days=14)
    second = client.get(url("frontdesk:book", case), {"from": first["later"].isoformat()}).context
    assert second["end_day"] == today + timedelta(days=19)  # the horizon's last day
    assert second["later"] is None
    assert second["by_day"][-1][0] == today + timedelta(days=19)
    # A day beyond it shows its last day; nothing later is ever listed.
    beyond = client.get(
        url("frontdesk:book", case), {"from": (today + timedelta(days=90)).isoformat()}
    )
    assert beyond.context["start_day"] == today + timedelta(days=19)
    assert beyond.context["later"] is None


def test_later_times_page_forward_and_hostile_dates_are_today(login, front_desk, case):
    client = login(front_desk)
    later = (timezone.localdate() + timedelta(days=14)).isoformat()
    response = client.get(url("frontdesk:book", case), {"from": later})
    assert response.context["start_day"].isoformat() == later
    for hostile in ["1999-01-01", "not-a-date", "3000-01-01", "2026-02-30"]:
        response = client.get(url("frontdesk:book", case), {"from": hostile})
        assert response.status_code == 200
        assert response.context["start_day"] == timezone.localdate()


# --- One consultation ----------------------------------------------------------------------


def test_reschedule_moves_it_and_settles_the_patient_s_request(
    login, front_desk, case, consultation, change
):
    new_time = first_free(case, skip=10)
    client = login(front_desk)
    response = client.get(url("frontdesk:reschedule", consultation))
    assert "Move the consultation of" in response.content.decode()
    response = client.post(
        url("frontdesk:reschedule", consultation), {"starts_at": new_time.isoformat()}
    )
    assert response.status_code == 302
    consultation.refresh_from_db()
    change.refresh_from_db()
    assert (consultation.starts_at, consultation.sequence) == (new_time, 1)
    assert change.resolved_by == front_desk


def test_cancelling_needs_a_reason_and_keeps_nothing_typed_lost(login, front_desk, consultation):
    client = login(front_desk)
    response = client.post(url("frontdesk:cancel", consultation), {"cancel-reason": "   "})
    assert response.status_code == 200
    assert "Give the reason for cancelling." in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.BOOKED
    too_long = "x" * 301
    response = client.post(url("frontdesk:cancel", consultation), {"cancel-reason": too_long})
    assert too_long in response.content.decode()  # what was typed is still in the box
    response = client.post(
        url("frontdesk:cancel", consultation), {"cancel-reason": "Physician ill"}, follow=True
    )
    assert "the case is back on the list to book" in response.content.decode()
    consultation.refresh_from_db()
    assert (consultation.state, consultation.cancel_reason) == ("cancelled", "Physician ill")


def test_check_in_complete_and_refused_moves(login, front_desk, consultation, time_machine):
    client = login(front_desk)
    response = client.post(url("frontdesk:complete", consultation), follow=True)
    assert "that change is not possible" in response.content.decode()
    time_machine.move_to(consultation.starts_at - timedelta(minutes=10))
    client = login(front_desk)  # signed in again: the session ended overnight
    client.post(url("frontdesk:check_in", consultation))
    client.post(url("frontdesk:complete", consultation))
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.COMPLETED
    kinds = list(consultation.case.events.values_list("kind", flat=True))
    assert kinds[-3:] == ["booked", "checked_in", "completed"]


def test_check_in_is_offered_and_taken_on_the_day_only(
    login, front_desk, consultation, time_machine
):
    day = timezone.localtime(consultation.starts_at).date()
    time_machine.move_to(at_clinic(day - timedelta(days=1), 16).astimezone(UTC))
    client = login(front_desk)  # a new session at each time: sessions end when idle
    page = client.get(url("frontdesk:consultation", consultation)).content.decode()
    assert url("frontdesk:check_in", consultation) not in page
    assert "Check-in opens on the day" in page
    response = client.post(url("frontdesk:check_in", consultation), follow=True)
    assert "Check-in is on the day of the consultation" in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.BOOKED
    time_machine.move_to(at_clinic(day, 7, 30).astimezone(UTC))
    client = login(front_desk)
    page = client.get(url("frontdesk:consultation", consultation)).content.decode()
    assert url("frontdesk:check_in", consultation) in page
    assert "Check-in opens on the day" not in page
    response = client.post(url("frontdesk:check_in", consultation), follow=True)
    assert "Checked in." in response.content.decode()
    consultation.refresh_from_db()
    assert consultation.state == Consultation.State.CHECKED_IN


def test_a_no_show_offers_to_book_again(login, front_desk, case, consultation):
    client = login(front_desk)
    response = client.post(url("frontdesk:no_show", consultation), follow=True)
    assert "Recorded as a no-show" in response.content.decode()
    assert url("frontdesk:book", case) in response.content.decode()
    home = client.get(reverse("frontdesk:home")).content.decode()
    assert "Earlier:" in home and "no-show" in home


def test_a_patient_s_request_is_listed_and_can_be_marked_handled(
    login, front_desk, consultation, change
):
    client = login(front_desk)
    home = client.get(reverse("frontdesk:home")).content.decode()
    assert "Patients' requests" in home and url("frontdesk:consultation", consultation) in home
    page = client.get(url("frontdesk:consultation", consultation)).content.decode()
    assert "The patient asked to cancel" in page
    client.post(url("frontdesk:request_handled", change))
    change.refresh_from_db()
    assert change.resolved_by == front_desk
    assert (
        "No open requests from patients." in client.get(reverse("frontdesk:home")).content.decode()
    )


# --- The day view ----------------------------------------------------------------------------


def test_the_day_view_shows_every_physician_side_by_side_in_constant_queries(
    login, front_desk, physician, case, consultation
):
    other = PhysicianFactory.create(regions=["spine"], display_name="Dr Other")
    working_hours(other, weekdays=range(7), location="Room 9")
    day = timezone.localtime(consultation.starts_at).date()
    client = login(front_desk)
    with CaptureQueriesContext(connection) as few:
        response = client.get(reverse("frontdesk:day"), {"date": day.isoformat()})
    body = response.content.decode()
    assert [c["physician"].user for c in response.context["columns"]] == sorted(
        [physician, other.user], key=lambda u: u.physician_profile.display_name
    )
    assert case.intake.legal_name in body and "Room 9" in body and "data-print" in body
    for skip in (4, 8, 12):
        consultation_book(
            case=case_to_book(physician),
            starts_at=first_free(case, skip=skip),
            booked_by=front_desk,
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("frontdesk:day"), {"date": day.isoformat()})
    assert len(many) == len(few)


def test_the_day_view_moves_by_a_day_and_ignores_hostile_dates(login, front_desk, open_every_day):
    client = login(front_desk)
    today = timezone.localdate()
    response = client.get(reverse("frontdesk:day"))
    assert (response.context["day"], response.context["next"]) == (
        today,
        today + timedelta(days=1),
    )
    for hostile in ["garbage", "0001-01-01", "9999-12-31", "2026-13-01", "' OR 1=1 --"]:
        response = client.get(reverse("frontdesk:day"), {"date": hostile})
        assert response.status_code == 200 and response.context["day"] == today


# --- Incomplete intakes ---------------------------------------------------------------------


def old_draft(days=5):
    patient = UserFactory.create(role=Role.PATIENT)
    intake = services.intake_start(patient=patient)
    Intake.objects.filter(pk=intake.pk).update(created_at=timezone.now() - timedelta(days=days))
    return intake


def test_incomplete_lists_old_drafts_only(login, front_desk, settings):
    settings.INCOMPLETE_INTAKE_DAYS = 3
    old, recent = old_draft(days=5), old_draft(days=1)
    submitted = intake_ready_to_sign(UserFactory.create(role=Role.PATIENT))
    body = login(front_desk).get(reverse("frontdesk:incomplete")).content.decode()
    assert old.patient.email in body
    assert recent.patient.email not in body and submitted.patient.email not in body


def test_a_reminder_e_mails_the_patient_once_a_day(
    login, front_desk, django_capture_on_commit_callbacks, mailoutbox
):
    draft = old_draft()
    client = login(front_desk)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url("frontdesk:incomplete_remind", draft), follow=True)
    assert f"A reminder is on its way to {draft.patient.email}" in response.content.decode()
    (sent,) = mailoutbox
    assert sent.to == [draft.patient.email] and "is waiting for you" in sent.subject
    assert reverse("intake:home") in sent.body and "Hiking" not in sent.body
    response = client.post(url("frontdesk:incomplete_remind", draft), follow=True)
    assert "wait a day before sending another" in response.content.decode()
    draft.refresh_from_db()
    assert draft.reminder_count == 1 and draft.reminded_at is not None
    assert OutboundEmail.objects.filter(to=draft.patient.email).count() == 1


def test_no_reminder_for_a_submitted_intake(login, front_desk, case):
    response = login(front_desk).post(url("frontdesk:incomplete_remind", case.intake), follow=True)
    assert "no reminder is needed" in response.content.decode()
    assert not OutboundEmail.objects.filter(subject__contains="is waiting for you").exists()


# --- The patient's side --------------------------------------------------------------------


def test_the_patient_sees_their_upcoming_consultation_and_no_one_else_s(
    login, patient, other_patient, physician, consultation, front_desk
):
    theirs = consultation_book(
        case=case_to_book(physician, patient=other_patient),
        starts_at=first_free(consultation.case, skip=20),
        booked_by=front_desk,
    )
    response = login(patient).get(reverse("intake:home"))
    assert [c.pk for c in response.context["consultations"]] == [consultation.pk]
    body = response.content.decode()
    assert "Your consultations" in body
    assert physician.physician_profile.display_name in body
    assert url("intake:consultation_calendar", consultation) in body
    assert str(theirs.public_id) not in body


def test_the_patient_s_case_page_shows_the_booked_time_and_the_clinic_s_address(
    login, patient, case, front_desk, settings, django_capture_on_commit_callbacks, mailoutbox
):
    settings.CLINIC_ADDRESS = "120 Main Street, Springfield, NJ 07081"
    detail = reverse("intake:detail", kwargs={"public_id": case.intake.public_id})
    client = login(patient)
    before = client.get(detail).content.decode()
    assert "Our front desk will contact you to book it." in before
    with django_capture_on_commit_callbacks(execute=True):
        consultation = consultation_book(
            case=case, starts_at=first_free(case), booked_by=front_desk
        )
    page = client.get(detail).content.decode()
    local = timezone.localtime(consultation.starts_at)
    assert 'Status: <strong class="status-word">Booked</strong>' in page
    assert "will contact you to book it" not in page
    assert "Your consultation is booked" in page
    assert f"{local:%A} {local.day} {local:%B %Y} at {local:%H:%M}" in page
    assert "At Room 2, 120 Main Street, Springfield, NJ 07081." in page
    assert url("intake:consultation_calendar", consultation) in page
    # The same place in the e-mail and as the invitation's location.
    (email,) = mailoutbox
    assert "Room 2, 120 Main Street, Springfield, NJ 07081" in email.body
    ((_, invitation, _),) = email.attachments
    assert "LOCATION:Room 2\\, 120 Main Street\\, Springfield\\, NJ 07081" in invitation


def test_the_patient_downloads_only_their_own_invitation(
    login, patient, other_patient, consultation
):
    response = login(patient).get(url("intake:consultation_calendar", consultation))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "attachment" in response["Content-Disposition"]
    assert consultation.uid in response.content.decode()
    other = login(other_patient)
    assert other.get(url("intake:consultation_calendar", consultation)).status_code == 404
    assert other.post(url("intake:consultation_change", consultation)).status_code == 404


@pytest.mark.parametrize("persona", ["front_desk", "physician"])
def test_staff_do_not_use_the_patient_s_consultation_urls(request, login, consultation, persona):
    client = login(request.getfixturevalue(persona))
    assert client.get(url("intake:consultation_calendar", consultation)).status_code == 403
    assert client.post(url("intake:consultation_change", consultation)).status_code == 403


def test_the_patient_asks_to_move_it_and_sees_the_request(login, patient, consultation):
    client = login(patient)
    address = url("intake:consultation_change", consultation)
    response = client.post(address, {"change-message": "Any Thursday afternoon"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Choose whether to move or cancel it." in body and "Any Thursday afternoon" in body
    response = client.post(
        address,
        {"change-kind": "reschedule", "change-message": "Any Thursday afternoon"},
        follow=True,
    )
    assert "We have asked the front desk to move your consultation" in response.content.decode()
    request = ConsultationChangeRequest.objects.get()
    assert (request.kind, request.message, request.late) == (
        "reschedule",
        "Any Thursday afternoon",
        False,
    )
    assert "You asked to reschedule it" in response.content.decode()
    # A second request while the first is open is refused on the page.
    response = client.post(address, {"change-kind": "cancel"})
    assert "You have already asked for a change" in response.content.decode()
    response = client.post(address, {"change-kind": "delete-everything"})
    assert response.status_code == 200 and ConsultationChangeRequest.objects.count() == 1


# --- The physician's calendar ------------------------------------------------------------------


def test_physicians_see_their_own_calendar_only(
    login, physician, other_physician, consultation, front_desk
):
    day = timezone.localtime(consultation.starts_at).date()
    mine = login(physician).get(reverse("review:calendar"), {"date": day.isoformat()})
    assert consultation.case.intake.legal_name in mine.content.decode()
    assert url("review:case", consultation.case) in mine.content.decode()
    theirs = login(other_physician).get(reverse("review:calendar"), {"date": day.isoformat()})
    assert consultation.case.intake.legal_name not in theirs.content.decode()
    for persona in (front_desk, consultation.patient):
        assert login(persona).get(reverse("review:calendar")).status_code == 403
