"""Telling the patient about their consultation: e-mail with an .ics invitation
(iCalendar; one stable UID per consultation so calendar apps update the event rather
than add a second one; METHOD:CANCEL on cancellation) and, where configured, SMS.

Neither carries clinical details: the time, the place, the physician's name and a link
to log in."""

import logging
from datetime import UTC, datetime
from functools import partial

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.module_loading import import_string
from django.utils.translation import gettext_lazy as _
from icalendar import Calendar, Event, vCalAddress, vText

from clinic.services import email_queue, patient_language
from intake.models import Consultation

logger = logging.getLogger(__name__)

SUBJECTS = {
    "booked": _("Your consultation is booked"),
    "rescheduled": _("Your consultation has moved"),
    "cancelled": _("Your consultation is cancelled"),
    "reminder": _("Reminder: your consultation"),
}


def consultation_calendar(consultation: Consultation, *, cancelled: bool = False) -> str:
    """The consultation as an iCalendar document (REQUEST, or CANCEL)."""
    physician = consultation.physician
    name = getattr(getattr(physician, "physician_profile", None), "display_name", "")
    calendar = Calendar()
    calendar.add("prodid", "-//Clinic Intake//Consultations//EN")
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")
    event = Event()
    event.add("uid", consultation.uid)
    event.add("sequence", consultation.sequence)
    event.add("dtstamp", timezone.now())
    # In UTC ("...Z"): a TZID would need a VTIMEZONE block that some calendars mishandle.
    event.add("dtstart", consultation.starts_at.astimezone(UTC))
    event.add("dtend", consultation.ends_at.astimezone(UTC))
    # The summary and description are in the patient's language (the caller's).
    event.add("summary", _("Consultation at %(clinic)s") % {"clinic": settings.CLINIC_NAME})
    event.add("location", vText(consultation.place))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    event.add(
        "description",
        _("With %(physician)s. Details: %(link)s")
        % {"physician": name, "link": _link(consultation)},
    )
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL.split('<')[-1].rstrip('>')}")
    organizer.params["cn"] = vText(settings.CLINIC_NAME)
    event.add("organizer", organizer)
    calendar.add_component(event)
    return calendar.to_ical().decode()


def _link(consultation: Consultation) -> str:
    return settings.SITE_URL + reverse("intake:home")


def consultation_notify(consultation: Consultation, what: str) -> None:
    """E-mails (with the invitation) and texts the patient, on commit, in the
    patient's language."""
    with translation.override(patient_language(consultation.patient)):
        _consultation_notify(consultation, what)


def _consultation_notify(consultation: Consultation, what: str) -> None:
    patient = consultation.patient
    local: datetime = timezone.localtime(consultation.starts_at)
    when = date_format(local, "PATIENT_MESSAGE_DATETIME_FORMAT")
    email_queue(
        to=patient.email,
        subject=f"{SUBJECTS[what]}: {when}",
        template="emails/consultation.txt",
        context={
            "what": what,
            "name": patient.full_name,
            "consultation": consultation,
            "local": local,
            "physician": consultation.physician.physician_profile.display_name,
            "link": _link(consultation),
            # Instructions before a procedure (care) are dated from it.
            "instructions_moved": what == "rescheduled"
            and consultation.instructions.filter(approved_at__isnull=False).exists(),
        },
        calendar=consultation_calendar(consultation, cancelled=what == "cancelled"),
    )
    phone = getattr(consultation.case.intake, "phone", None)
    if phone:
        to = str(phone)
        text = f"{settings.CLINIC_NAME}: {str(SUBJECTS[what]).lower()}, {when.replace(',', '')}."
        # Only once the change is committed: a booking rolled back sends nothing. A
        # failing SMS gateway is logged and does not undo or fail the booking.
        transaction.on_commit(partial(sms_send, to=to, text=text), robust=True)


class ConsoleSmsBackend:
    """The default: writes the message to the log instead of sending it."""

    def send(self, *, to: str, text: str) -> None:
        logger.info("SMS to %s: %s", to[:-4] + "****", text)


def sms_send(*, to: str, text: str) -> None:
    """Texts go through ``SMS_BACKEND`` (a class with ``send(to=, text=)``)."""
    backend = import_string(settings.SMS_BACKEND)()
    backend.send(to=to, text=text)
