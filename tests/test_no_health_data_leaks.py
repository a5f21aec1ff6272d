"""No health data in logs, URLs, e-mail or Celery task arguments.

Unmistakable canary strings go into every health answer anyone can type (medicines,
allergies, other conditions, what was tried, imaging facility and file name, goals,
answers kept from a step that did not validate, a physician's question and the
patient's answer, each part of a decision, the patient's request to the front desk,
the front desk's reason for cancelling, a reassignment's reason, the treatment plan's
notes and reasons, the procedure record's donor-tissue product, manufacturer and
note) and into the names of the catalog rows a patient's answers point at (the
condition, the red flag and the contraindication they said yes to). Then the
journeys run through the pages as the people would: sign-up and the intake, routing,
review, questions and answers, decisions, booking, a patient's change request,
moving, reminders, cancelling, the plan and its estimate, the procedure booked and
recorded on its day, the tissue-lot recall list, escalation and an intake reminder.

Everything that leaves the database for somewhere less guarded is captured and
searched for the canaries:

- every log record of every logger at DEBUG, with its arguments, extras and traceback;
- every Celery task sent, with its arguments (eager mode runs tasks without
  publishing them, so ``Task.apply_async`` is wrapped; ``before_task_publish`` is
  recorded too for a run against a broker);
- every URL: the path and query of each request, each redirect's Location, and each
  href, src, action and formaction of every page rendered;
- every e-mail: the outbox row as written (its body is erased once sent) and the
  message Django sent, with its calendar attachment; and the calendar file a patient
  downloads.

Every capture must hold something (so the test cannot pass by seeing nothing), every
canary must really be stored, and ``test_a_canary_is_found_in_each_channel`` shows
that the search finds one planted in each channel.
"""

import io
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote_plus

import pytest
import time_machine
from celery.app.task import Task
from celery.signals import before_task_publish
from django.conf import settings
from django.core import mail, serializers
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models.signals import post_save
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from care.models import FollowUpCall, GoodFaithEstimate, PlanItem, ProcedureRecord, TreatmentPlan
from care.tasks import run_followups
from clinic.celery import app as celery_app
from clinic.models import OutboundEmail, User
from clinic.roles import Role
from clinic.services import email_queue
from intake.models import (
    Case,
    CaseEvent,
    CaseFlag,
    Consultation,
    ConsultationChangeRequest,
    ImagingFile,
    ImagingStudy,
    InformationRequest,
    Intake,
    PriorTreatment,
    ReviewDecision,
)
from intake.tasks import escalate_overdue_cases, send_consultation_reminders
from tests.care.followup_helpers import answers as followup_answers
from tests.care.followup_helpers import at_opening, form_data
from tests.care.helpers import billing_provider
from tests.factories import UserFactory, working_hours
from tests.intake.step_posts import (
    about_post,
    consent_post,
    function_post,
    goals_post,
    health_post,
    imaging_post,
    pain_post,
    tried_post,
)
from treatments.models import (
    BodyRegion,
    Condition,
    Contraindication,
    Priority,
    RedFlag,
    TreatmentOption,
)

pytestmark = pytest.mark.django_db

TOKEN = "zqcanary"
# Case-insensitive, and after URL-decoding and unfolding calendar lines (see _searchable).
FOUND = re.compile(rf"{TOKEN}[\w-]*", re.IGNORECASE)


class Canaries:
    """Hands out canary marks and remembers each, to check they were all stored."""

    def __init__(self) -> None:
        self.planted: list[str] = []

    def __call__(self, what: str, text: str = "") -> str:
        self.planted.append(f"{TOKEN}-{what}")
        return self.transient(what, text)

    @staticmethod
    def transient(what: str, text: str = "") -> str:
        """A canary for something that is not kept (the caller checks it was stored)."""
        return f"{text} {TOKEN}-{what}".strip()


# --- What is captured ------------------------------------------------------------------


@dataclass
class Observed:
    logs: list[str] = field(default_factory=list)
    tasks: list[str] = field(default_factory=list)
    task_names: list[str] = field(default_factory=list)
    unserialisable_tasks: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    downloads: list[str] = field(default_factory=list)

    def channels(self) -> dict[str, list[str]]:
        return {
            "log record": self.logs,
            "Celery task": self.tasks,
            "URL": self.urls,
            "e-mail": self.emails + _sent_emails(),
            "calendar download": self.downloads,
        }


def _sent_emails() -> list[str]:
    sent = []
    for message in mail.outbox:
        parts = [str(message.subject), str(message.body), *map(str, message.to)]
        parts += [str(content) for content, _ in getattr(message, "alternatives", [])]
        for attachment in message.attachments:
            parts += [str(part) for part in attachment]
        sent.append("\n".join(parts))
    return sent


def _searchable(text: str) -> str:
    # iCalendar folds lines longer than 75 octets ("\r\n "), which could split a mark.
    unfolded = re.sub(r"\r?\n[ \t]", "", text)
    return unfolded + "\n" + unquote_plus(unfolded)


def leaks(observed: Observed) -> list[str]:
    return [
        f"{channel}: {match.group(0)} in {item[:300]!r}"
        for channel, items in observed.channels().items()
        for item in items
        for match in FOUND.finditer(_searchable(item))
    ]


_STANDARD_RECORD_FIELDS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


def _log_text(record: logging.LogRecord) -> str:
    try:
        message = record.getMessage()
    except (TypeError, ValueError):
        message = f"{record.msg!r} % {record.args!r}"
    parts = [record.name, record.levelname, message]
    if record.exc_info:
        parts.append(logging.Formatter().formatException(record.exc_info))
    if record.exc_text:
        parts.append(record.exc_text)
    if record.stack_info:
        parts.append(record.stack_info)
    extras = {
        key: value for key, value in vars(record).items() if key not in _STANDARD_RECORD_FIELDS
    }
    if extras:
        parts.append(repr(extras))
    return "\n".join(parts)


class _Recorder(logging.Handler):
    def __init__(self, into: list[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(_log_text(record))


def _all_loggers() -> list[logging.Logger]:
    known = logging.Logger.manager.loggerDict.values()
    return [logging.getLogger(), *(lg for lg in known if isinstance(lg, logging.Logger))]


@pytest.fixture
def observed(monkeypatch: pytest.MonkeyPatch) -> Iterator[Observed]:
    seen = Observed()

    # Logs: every logger at DEBUG, none disabled; a logger that does not propagate to
    # the root gets the recorder itself.
    recorder = _Recorder(seen.logs)
    saved = [(lg, lg.level, lg.disabled, lg.propagate) for lg in _all_loggers()]
    previous_disable = logging.root.manager.disable
    logging.disable(logging.NOTSET)
    for lg, _, _, propagate in saved:
        lg.setLevel(logging.DEBUG)
        lg.disabled = False
        if not propagate or lg is logging.getLogger():
            lg.addHandler(recorder)

    # Tasks: eager mode runs them without publishing, so apply_async (which delay
    # calls) is where their arguments are seen.
    original_apply_async = Task.apply_async

    def recording_apply_async(
        task: Task, args: Any = None, kwargs: Any = None, *rest: Any, **options: Any
    ) -> Any:
        seen.task_names.append(task.name)
        seen.tasks.append(f"{task.name} args={args!r} kwargs={kwargs!r}")
        try:
            json.dumps([args, kwargs])
        except TypeError as error:
            seen.unserialisable_tasks.append(f"{task.name}: {error}")
        return original_apply_async(task, args, kwargs, *rest, **options)

    monkeypatch.setattr(Task, "apply_async", recording_apply_async)

    def published(sender: Any = None, body: Any = None, headers: Any = None, **kw: Any) -> None:
        seen.tasks.append(f"published {sender} body={body!r} headers={headers!r}")

    before_task_publish.connect(published, weak=False)

    # E-mail: the outbox row as written (delivery erases its body and calendar).
    def outbox_row(sender: Any, instance: OutboundEmail, created: bool, **kw: Any) -> None:
        if created:
            seen.emails.append(
                f"{instance.to}\n{instance.subject}\n{instance.body}\n{instance.calendar}"
            )

    post_save.connect(outbox_row, sender=OutboundEmail, weak=False)
    try:
        yield seen
    finally:
        post_save.disconnect(outbox_row, sender=OutboundEmail)
        before_task_publish.disconnect(published)
        for lg in _all_loggers():
            lg.removeHandler(recorder)
        for lg, level, disabled, propagate in saved:
            lg.setLevel(level)
            lg.disabled, lg.propagate = disabled, propagate
        logging.disable(previous_disable)


class _Links(HTMLParser):
    ATTRIBUTES = frozenset(
        {"href", "src", "srcset", "action", "formaction", "poster", "cite", "data-url"}
    )

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found += [
            value
            for name, value in attrs
            if value is not None and (name in self.ATTRIBUTES or name.startswith("hx-"))
        ]


def links_in(html: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return parser.found


class Browser:
    """One person's browser: every request runs its on-commit work (e-mail, routing)
    as a committed transaction would, follows redirects, and records the URLs.
    ``client`` is a fresh test client of the project's kind (whose ``force_login``
    also gives staff their second factor)."""

    def __init__(
        self, seen: Observed, on_commit: Any, client: Client, user: User | None = None
    ) -> None:
        self.seen = seen
        self.on_commit = on_commit
        self.client = client
        if user is not None:
            self.client.force_login(user)

    def get(self, url: str, data: dict[str, Any] | None = None) -> HttpResponse:
        response = self._request("get", url, data)
        assert response.status_code == 200, (url, response.status_code)
        return response

    def post(self, url: str, data: dict[str, Any] | None = None) -> HttpResponse:
        return self._request("post", url, data)

    def submit(self, url: str, data: dict[str, Any] | None = None) -> str:
        """A POST that must succeed (redirect); returns where it went."""
        response = self.post(url, data)
        assert response.status_code == 302, (url, response.content.decode()[:3000])
        return str(response["Location"])

    def _request(self, method: str, url: str, data: dict[str, Any] | None) -> HttpResponse:
        with self.on_commit(execute=True):
            response = getattr(self.client, method)(url, data or {})
        self.seen.urls.append(response.wsgi_request.get_full_path())
        for header in ("Location", "HX-Redirect", "HX-Location", "Refresh", "Content-Location"):
            if header in response:
                self.seen.urls.append(response[header])
        kind = response.get("Content-Type", "")
        if "text/html" in kind:
            self.seen.urls += links_in(response.content.decode())
        elif "text/calendar" in kind:
            self.seen.downloads.append(response.content.decode())
        if response.streaming:  # an imaging file: read to the end, which closes it
            b"".join(response.streaming_content)
        if response.status_code in (301, 302, 303, 307, 308):
            self._request("get", response["Location"], None)
        return response


# --- The journeys -------------------------------------------------------------------------


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), "white").save(buffer, format="PNG")
    return buffer.getvalue()


def _mark_catalog(canary: Canaries) -> None:
    """The catalog rows the patients' answers point at carry canaries in their names
    (a case copies a rule's name into its flag, a red flag's name into its priority
    reason), so an answer that travels by reference is traced too."""
    for condition in Condition.objects.filter(slug__in=["knee-osteoarthritis", "acl-tear"]):
        condition.name = canary(f"condition-{condition.slug}", condition.name)
        condition.save()
    for red_flag in RedFlag.objects.filter(slug="hot-swollen-joint-with-fever"):
        red_flag.name = canary("red-flag-name", red_flag.name)
        red_flag.screening_question = canary("red-flag-question", red_flag.screening_question)
        red_flag.patient_advice = canary("red-flag-advice", red_flag.patient_advice)
        red_flag.save()
    for rule in Contraindication.objects.filter(
        slug__in=["platelet-disorder", "anticoagulant", "nsaid"]
    ):
        rule.name = canary(f"rule-{rule.slug}", rule.name)
        rule.screening_question = canary(f"rule-question-{rule.slug}", rule.screening_question)
        rule.save()


def _step(intake: Intake, number: int) -> str:
    return reverse("intake:step", kwargs={"public_id": intake.public_id, "step": number})


def _health(canary: Canaries, who: str, **answers: str) -> dict[str, Any]:
    return health_post(**answers) | {
        "current_medicines": canary(f"{who}-medicines", "Warfarin 5 mg daily"),
        "allergies": canary(f"{who}-allergies", "Penicillin"),
        "other_conditions": canary(f"{who}-other-conditions", "Type 2 diabetes"),
    }


def fill_intake(
    browser: Browser,
    patient: User,
    canary: Canaries,
    *,
    who: str,
    region: str,
    condition: str,
    answers: dict[str, str],
    last_step: int = 7,
    exit_on_error: bool = False,
) -> Intake:
    """Starts an intake and fills steps 1 to ``last_step`` through the pages; on the
    health step the patient first sends an incomplete page (kept as pending answers)."""
    browser.get(reverse("intake:home"))
    browser.submit(reverse("intake:new"))
    intake = Intake.objects.filter(patient=patient).latest("created_at")
    painful = BodyRegion.objects.get(slug=region)
    posts: dict[int, Callable[[], dict[str, Any]]] = {
        1: lambda: about_post(legal_name=patient.full_name),
        2: lambda: pain_post(
            {
                "body_region": painful.pk,
                "side": "left",
                "condition": Condition.objects.get(slug=condition).pk,
                "started_on": "2024-03-01",
                "onset": "gradual",
                "pain_now": "6",
                "pain_worst_week": "8",
            }
        ),
        3: function_post,
        4: lambda: tried_post(
            medicines={
                "tried": "yes",
                "details": canary(f"{who}-tried-medicines", "Naproxen"),
                "outcome": "some",
            },
            surgery={
                "tried": "yes",
                "details": canary(f"{who}-tried-surgery", "Arthroscopy"),
                "last_on": "2020-06-01",
                "outcome": "none",
            },
        ),
        5: lambda: _health(canary, who, **answers),
        6: lambda: (
            imaging_post(
                "yes",
                {
                    "modality": "mri",
                    "body_region": painful.pk,
                    "done_on": "2024-04-01",
                    "facility": canary(f"{who}-imaging-facility", "Oncology imaging centre"),
                },
            )
            | {
                "upload": SimpleUploadedFile(
                    canary(f"{who}-imaging-file") + ".png", _png(), content_type="image/png"
                )
            }
        ),
        7: lambda: goals_post(goals=canary(f"{who}-goals", "Walk without a limp")),
    }
    for number in range(1, last_step + 1):
        browser.get(_step(intake, number))
        if number == 5:
            # Kept as typed until the step is saved (then dropped), so checked here.
            typed = {
                "current_medicines": canary.transient(f"{who}-pending-medicines", "Metformin"),
                "allergies": canary.transient(f"{who}-pending-allergies", "Latex"),
                "action": "exit" if exit_on_error else "stay",
            }
            response = browser.post(_step(intake, 5), typed)
            intake.refresh_from_db()
            kept = json.dumps(intake.pending_answers)
            assert typed["current_medicines"] in kept and typed["allergies"] in kept
            if exit_on_error:
                assert response.status_code == 302
                return intake
            assert response.status_code == 200
            browser.get(_step(intake, 5))  # the kept answers shown again
        browser.submit(_step(intake, number), posts[number]())
    return intake


def submit_intake(browser: Browser, intake: Intake) -> Case:
    browser.get(_step(intake, 8))
    browser.submit(_step(intake, 8), consent_post(name=intake.legal_name))
    return Case.objects.get(intake=intake)


def _slots(page: HttpResponse) -> list[str]:
    return re.findall(r'name="starts_at"[^>]*?value="([^"]+)"', page.content.decode())


def _case_url(name: str, case: Case) -> str:
    return reverse(f"review:{name}", kwargs={"public_id": case.public_id})


def test_no_health_data_leaves_through_logs_urls_emails_or_task_arguments(
    observed: Observed,
    client: Client,
    django_capture_on_commit_callbacks: Any,
    physician: User,
    other_physician: User,
    front_desk: User,
    clinic_admin: User,
) -> None:
    canary = Canaries()
    _mark_catalog(canary)
    working_hours(physician.physician_profile, weekdays=range(7))

    def browser(user: User | None = None) -> Browser:
        return Browser(observed, django_capture_on_commit_callbacks, type(client)(), user)

    def run(task: Any) -> Any:
        with django_capture_on_commit_callbacks(execute=True):
            return task.delay().get()

    doctor, colleague, desk = browser(physician), browser(other_physician), browser(front_desk)

    # --- Patient A signs up, confirms the address and fills the intake: a knee, a red
    # flag (urgent), a hard stop (a platelet disorder) and an unsure anticoagulant answer.
    pat = browser()
    pat.get(reverse("intake:signup"))
    pat.submit(
        reverse("intake:signup"),
        {
            "full_name": "Pat Patient",
            "email": "pat.canary@clinic.example",
            "password1": "a long and unusual pass phrase",
            "password2": "a long and unusual pass phrase",
        },
    )
    link = re.search(r"https?://[^/\s]+(/accounts/verify/\S+)", str(mail.outbox[-1].body))
    assert link is not None, mail.outbox[-1].body
    pat.get(link.group(1))
    pat.submit(link.group(1))
    patient_a = User.objects.get(email="pat.canary@clinic.example")
    assert patient_a.email_verified_at is not None
    intake_a = fill_intake(
        pat,
        patient_a,
        canary,
        who="a",
        region="knee",
        condition="knee-osteoarthritis",
        answers={
            "hot-swollen-joint-with-fever": "yes",
            "platelet-disorder": "yes",
            "anticoagulant": "unsure",
        },
    )
    case_a = submit_intake(pat, intake_a)
    case_a.refresh_from_db()
    assert case_a.assigned_to == physician and case_a.priority == Priority.URGENT
    pat.get(reverse("intake:detail", kwargs={"public_id": intake_a.public_id}))

    # The physician reads it, asks, the patient answers, the physician decides with a
    # hard-stop override.
    doctor.get(reverse("review:queue"))
    doctor.get(reverse("review:queue"), {"tab": "mine", "flags": "hard_stop", "sort": "waiting"})
    doctor.get(_case_url("case", case_a))
    doctor.get(_case_url("case_print", case_a))
    image = ImagingFile.objects.get(intake=intake_a)
    doctor.get(reverse("intake:file", kwargs={"file_id": image.public_id}))
    doctor.submit(_case_url("claim", case_a))
    doctor.submit(
        _case_url("ask", case_a),
        {"ask-question": canary("a-question", "Is the knee swollen after the chemotherapy?")},
    )
    question = InformationRequest.objects.get(case=case_a)
    detail_a = reverse("intake:detail", kwargs={"public_id": intake_a.public_id})
    pat.get(detail_a)
    pat.submit(
        reverse(
            "intake:information_answer",
            kwargs={"public_id": intake_a.public_id, "request_id": question.public_id},
        ),
        {f"{question.public_id}-answer": canary("a-answer", "Yes, since the last cycle")},
    )
    doctor.get(_case_url("case", case_a))
    doctor.submit(
        _case_url("candidate", case_a),
        {
            "candidate-options": [TreatmentOption.objects.get(slug="prp").pk],
            "candidate-consultation_type": "new",
            "candidate-consultation_mode": "in_person",
            "candidate-urgency": "routine",
            "candidate-override_reason": canary("a-override", "Hematologist agrees"),
            "candidate-message_to_patient": canary("a-message", "PRP may help your arthritis"),
            "candidate-internal_note": canary("a-internal-note", "Check platelet count"),
        },
    )
    pat.get(detail_a)

    # The front desk books; the patient asks to move it; the desk moves it to within a
    # day (so a reminder is due), the reminders run, and the desk cancels.
    desk.get(reverse("frontdesk:home"))
    book = reverse("frontdesk:book", kwargs={"public_id": case_a.public_id})
    slots = _slots(desk.get(book))
    assert slots, "no free slots to book"
    desk.submit(book, {"starts_at": slots[-1]})
    consultation = Consultation.objects.get(case=case_a)
    desk.get(reverse("frontdesk:consultation", kwargs={"public_id": consultation.public_id}))
    pat.get(reverse("intake:home"))
    pat.get(reverse("intake:consultation_calendar", kwargs={"public_id": consultation.public_id}))
    pat.submit(
        reverse("intake:consultation_change", kwargs={"public_id": consultation.public_id}),
        {
            "change-kind": "reschedule",
            "change-message": canary("a-change-message", "After my radiotherapy, please"),
        },
    )
    desk.get(reverse("frontdesk:home"))
    reschedule = reverse("frontdesk:reschedule", kwargs={"public_id": consultation.public_id})
    now = timezone.now()
    within_a_day = [
        slot
        for slot in _slots(desk.get(reschedule))
        if now + timedelta(hours=2, minutes=15)
        < datetime.fromisoformat(slot)
        <= now + timedelta(hours=23, minutes=45)
    ]
    assert within_a_day, "no free slot within the next day"
    desk.submit(reschedule, {"starts_at": within_a_day[0]})
    assert run(send_consultation_reminders) >= 1
    desk.submit(
        reverse("frontdesk:cancel", kwargs={"public_id": consultation.public_id}),
        {"cancel-reason": canary("a-cancel-reason", "Admitted to hospital with sepsis")},
    )
    desk.get(reverse("frontdesk:consultation", kwargs={"public_id": consultation.public_id}))
    desk.get(reverse("frontdesk:day"), {"date": f"{consultation.starts_at:%Y-%m-%d}"})
    doctor.get(reverse("review:calendar"))

    # After the consultation: the physician writes the plan (a charge adjusted with a
    # reason), shares it, which issues the self-pay patient's Good Faith Estimate; the
    # patient reads and acknowledges it and asks for another; the desk lists and issues.
    billing_provider()
    plan_url = reverse("care:plan", kwargs={"public_id": case_a.public_id})
    doctor.get(plan_url)
    doctor.submit(
        plan_url,
        {
            "options": [TreatmentOption.objects.get(slug="prp").pk],
            "body_region": BodyRegion.objects.get(slug="knee").pk,
            "side": "left",
            "condition": "",
            "icd10_code": "M17.12",
            "sessions": "1",
            "weeks_between_sessions": "0",
            "guidance": "ultrasound",
            "harvest_source": "",
            "note_to_patient": canary("a-plan-note", "PRP after your chemotherapy ends"),
        },
    )
    plan = TreatmentPlan.objects.get(case=case_a)
    item = plan.items.get()
    doctor.submit(
        reverse("care:plan_item", kwargs={"public_id": item.public_id}),
        {
            f"item-{item.public_id}-quantity": "1",
            f"item-{item.public_id}-charge": "900",
            f"item-{item.public_id}-reason": canary("a-adjust-reason", "Discount: on chemotherapy"),
        },
    )
    doctor.submit(reverse("care:plan_share", kwargs={"public_id": plan.public_id}))
    doctor.submit(
        reverse("care:plan_revise", kwargs={"public_id": plan.public_id}),
        {"reason": canary("a-revise-reason", "Second knee after the sepsis")},
    )
    revised = TreatmentPlan.objects.get(case=case_a, version=2)
    # Version 2 adds donor tissue (allograft), whose lot is recorded on the day.
    doctor.submit(
        plan_url,
        {
            "options": [
                TreatmentOption.objects.get(slug="prp").pk,
                TreatmentOption.objects.get(slug="allograft").pk,
            ],
            "body_region": BodyRegion.objects.get(slug="knee").pk,
            "side": "left",
            "condition": "",
            "icd10_code": "M17.12",
            "sessions": "1",
            "weeks_between_sessions": "0",
            "guidance": "ultrasound",
            "harvest_source": "",
            "note_to_patient": canary("a-plan-note-2", "Donor tissue, given the chemotherapy"),
        },
    )
    doctor.submit(reverse("care:plan_share", kwargs={"public_id": revised.public_id}))
    estimate = GoodFaithEstimate.objects.filter(case=case_a).latest()
    pat.get(detail_a)
    pat.get(reverse("care:patient_care", kwargs={"public_id": case_a.public_id}))
    pat.get(reverse("care:estimate", kwargs={"public_id": estimate.public_id}))
    pat.submit(reverse("care:estimate_acknowledge", kwargs={"public_id": estimate.public_id}))
    pat.submit(reverse("care:estimate_request", kwargs={"public_id": case_a.public_id}))
    desk.get(reverse("care:estimates"))
    desk.submit(
        reverse("care:estimate_issue", kwargs={"public_id": case_a.public_id}),
        {"separately_scheduled": "Blood count at the oncology lab"},
    )
    desk.get(reverse("care:estimate", kwargs={"public_id": estimate.public_id}))
    procedure = reverse("care:procedure_book", kwargs={"public_id": case_a.public_id})
    procedure_slots = _slots(desk.get(procedure))
    assert procedure_slots, "no free slots for the procedure"
    desk.submit(procedure, {"starts_at": procedure_slots[0]})

    # On the procedure's day the physician records it: donor tissue, a complication
    # described in the note. The patient reads what was done; a clinic admin and the
    # physician find the patient by the lot. The lot is a product's identifier, not
    # health data (the recall list's address carries it), so it is no canary.
    booked = Consultation.objects.get(case=case_a, consultation_type__slug="injection-procedure")
    with time_machine.travel(booked.starts_at + timedelta(minutes=50), tick=False):
        on_the_day = browser(physician)  # days later: new sessions
        on_the_day.get(plan_url)
        on_the_day.submit(
            reverse("care:procedure_record", kwargs={"public_id": booked.public_id}),
            {
                "performed_time": timezone.localtime(booked.starts_at + timedelta(minutes=5))
                .time()
                .strftime("%H:%M"),
                "option": TreatmentOption.objects.get(slug="allograft").pk,
                "body_region": BodyRegion.objects.get(slug="knee").pk,
                "side": "left",
                "guidance": "ultrasound",
                "volume_injected_ml": "4.0",
                "harvest_site": "",
                "product_name": canary("a-tissue-product", "Amniotic membrane allograft"),
                "manufacturer": canary("a-tissue-manufacturer", "Oncology Tissue Bank"),
                "lot_number": "AM-2026-0147",
                "lot_expires_on": "2030-06-30",
                "complication": "vasovagal",
                "note": canary("a-procedure-note", "Fainted; weak since the chemotherapy"),
            },
        )
        browser(patient_a).get(reverse("care:patient_care", kwargs={"public_id": case_a.public_id}))
        for searcher in (on_the_day, browser(clinic_admin)):
            searcher.get(reverse("care:lot_recall"), {"lot": "am-2026-0147 "})
    case_a.refresh_from_db()
    assert case_a.state == "treated"
    # --- Follow-ups: the procedure is recorded on its day (through the service; its
    # page is another change), which plans them; patient A agrees to texts; the beat
    # task invites, reminds twice and the desk calls (a note with a canary); patient A
    # answers with a complication; the physician sees it in the queue, on the case
    # and in the report, and marks it reviewed.
    record = ProcedureRecord.objects.get(consultation=booked)
    pat.submit(
        reverse("care:followup_preferences"),
        {"texts_agreed": "on", "case": str(case_a.public_id)},
    )
    six_weeks = record.followup_series.followups.get(label="6 weeks")
    opening = at_opening(six_weeks)
    for days in (0, 3, 7, 11):
        with time_machine.travel(opening + timedelta(days=days), tick=False):
            run(run_followups)
    with time_machine.travel(opening + timedelta(days=11), tick=True):
        # Signed in again: a month and more has passed since the sessions above.
        desk_f, pat_f, doctor_f = browser(front_desk), browser(patient_a), browser(physician)
        desk_f.get(reverse("care:followup_calls"))
        desk_f.submit(
            reverse("care:followup_call", kwargs={"public_id": six_weeks.public_id}),
            {"result": "left_message", "note": canary("a-call-note", "Says the knee is hot")},
        )
        questionnaire = reverse("care:followup", kwargs={"public_id": six_weeks.public_id})
        pat_f.get(questionnaire)
        pat_f.submit(questionnaire, form_data(followup_answers(fever=True)))
        pat_f.get(questionnaire)
        pat_f.get(reverse("care:patient_care", kwargs={"public_id": case_a.public_id}))
        doctor_f.get(reverse("review:queue"))
        doctor_f.get(_case_url("case", case_a))
        doctor_f.submit(reverse("care:followup_review", kwargs={"public_id": six_weeks.public_id}))
        doctor_f.get(reverse("care:outcomes"))
        doctor_f.get(reverse("care:outcomes"), {"format": "csv"})

    # --- Patient B: a shoulder nobody takes (the pool, and the admins are told), left
    # waiting past the target (escalated), imaging asked for and answered,
    # reassigned, and declined by the colleague.
    patient_b = UserFactory.create(
        role=Role.PATIENT, full_name="Bea Patient", email_verified_at=timezone.now()
    )
    bea = browser(patient_b)
    intake_b = fill_intake(
        bea,
        patient_b,
        canary,
        who="b",
        region="knee",
        condition="acl-tear",
        answers={"nsaid": "yes"},
    )
    # Nobody takes the knee today, so the case waits in the pool.
    physician.physician_profile.body_regions.remove(BodyRegion.objects.get(slug="knee"))
    case_b = submit_intake(bea, intake_b)
    case_b.refresh_from_db()
    assert case_b.assigned_to is None
    physician.physician_profile.body_regions.add(BodyRegion.objects.get(slug="knee"))
    Case.objects.filter(pk=case_b.pk).update(review_due_at=timezone.now() - timedelta(days=1))
    assert run(escalate_overdue_cases) >= 1
    doctor.get(reverse("review:queue"), {"tab": "pool"})
    doctor.get(_case_url("case", case_b))
    doctor.submit(_case_url("claim", case_b))
    doctor.submit(
        _case_url("imaging", case_b),
        {
            "imaging-modality": "mri",
            "imaging-region": BodyRegion.objects.get(slug="knee").pk,
            "imaging-message_to_patient": canary("b-imaging-message", "To rule out a tumour"),
            "imaging-internal_note": canary("b-imaging-note", "Suspect a bone lesion"),
        },
    )
    imaging_request = InformationRequest.objects.get(case=case_b)
    detail_b = reverse("intake:detail", kwargs={"public_id": intake_b.public_id})
    bea.get(detail_b)
    bea.submit(
        reverse(
            "intake:information_answer",
            kwargs={"public_id": intake_b.public_id, "request_id": imaging_request.public_id},
        ),
        {f"{imaging_request.public_id}-answer": canary("b-answer", "Booked at the cancer centre")},
    )
    doctor.submit(
        _case_url("reassign", case_b),
        {
            "reassign-physician": other_physician.pk,
            "reassign-reason": canary("b-reassign-reason", "Possible bone tumour, not my field"),
        },
    )
    colleague.get(reverse("review:queue"))
    colleague.get(_case_url("case", case_b))
    colleague.submit(_case_url("claim", case_b))
    colleague.submit(
        _case_url("not_candidate", case_b),
        {
            "decline-reason": canary("b-decline-reason", "Suspected malignancy"),
            "decline-message_to_patient": canary("b-decline-message", "Please see an oncologist"),
            "decline-internal_note": canary("b-decline-note", "Refer to sarcoma service"),
        },
    )
    bea.get(detail_b)

    # --- Patient C leaves a draft half done (with pending answers); days later the
    # front desk sends a reminder.
    patient_c = UserFactory.create(role=Role.PATIENT, full_name="Cy Patient")
    cy = browser(patient_c)
    intake_c = fill_intake(
        cy,
        patient_c,
        canary,
        who="c",
        region="knee",
        condition="knee-osteoarthritis",
        answers={},
        last_step=5,
        exit_on_error=True,
    )
    Intake.objects.filter(pk=intake_c.pk).update(
        created_at=timezone.now() - timedelta(days=settings.INCOMPLETE_INTAKE_DAYS + 1)
    )
    desk.get(reverse("frontdesk:incomplete"))
    desk.submit(reverse("frontdesk:incomplete_remind", kwargs={"public_id": intake_c.public_id}))

    # --- A clinic admin searches the audit log for a patient by name (not kept): the
    # search is posted, and the results' address carries only a token.
    admin = browser(clinic_admin)
    admin.get(reverse("audit_log"))
    admin.submit(reverse("audit_log"), {"patient": canary.transient("audit-search", "Pat")})

    # Every canary reached the database: the journeys stored what was typed.
    stored = serializers.serialize(
        "json",
        [
            *Intake.objects.all(),
            *PriorTreatment.objects.all(),
            *ImagingStudy.objects.all(),
            *ImagingFile.objects.all(),
            *InformationRequest.objects.all(),
            *ReviewDecision.objects.all(),
            *ConsultationChangeRequest.objects.all(),
            *Consultation.objects.all(),
            *CaseEvent.objects.all(),
            *CaseFlag.objects.all(),
            *TreatmentPlan.objects.all(),
            *PlanItem.objects.all(),
            *ProcedureRecord.objects.all(),
            *FollowUpCall.objects.all(),
            *Condition.objects.all(),
            *RedFlag.objects.all(),
            *Contraindication.objects.all(),
        ],
    )
    assert [mark for mark in canary.planted if mark not in stored] == []

    # Each capture saw the journeys (so finding nothing means something).
    assert any("SMS to" in record for record in observed.logs)
    assert {
        "intake.tasks.route_case",
        "clinic.tasks.send_email",
        "intake.tasks.send_consultation_reminders",
        "intake.tasks.escalate_overdue_cases",
        "care.tasks.run_followups",
    } <= set(observed.task_names)
    assert observed.unserialisable_tasks == []
    sent = len(mail.outbox)
    assert (
        sent
        == OutboundEmail.objects.count()
        == len(observed.emails)
        == (observed.task_names.count("clinic.tasks.send_email"))
    )
    assert sent >= 12
    assert sum(bool(message.attachments) for message in mail.outbox) >= 4  # invitations
    assert any("/review/cases/" in url for url in observed.urls)
    assert any(url.startswith("/intake/files/") for url in observed.urls)
    assert any(url.startswith("/audit/?search=") for url in observed.urls)
    assert observed.downloads

    found = leaks(observed)
    assert found == [], "\n".join(found)


# --- The search itself -------------------------------------------------------------------


@celery_app.task(name="tests.canary_echo")
def canary_echo(value: str) -> str:
    return value


def test_a_canary_is_found_in_each_channel(
    observed: Observed, client: Client, django_capture_on_commit_callbacks: Any, patient: User
) -> None:
    mark = f"{TOKEN}-planted"
    logging.getLogger("intake.anything").debug("typed: %s", "ignored", extra={"note": mark})
    canary_echo.delay(mark)
    browser = Browser(observed, django_capture_on_commit_callbacks, client)
    browser.get(reverse("home"), {"q": f"knee {mark}"})
    # A link whose mark is percent-encoded ("%7A" is "z").
    observed.urls += links_in(f'<a href="/x/%7A{mark[1:]}-encoded">x</a>')
    with django_capture_on_commit_callbacks(execute=True):
        email_queue(
            to=patient.email,
            subject="Hello",
            template="emails/case_update.txt",
            context={"name": mark},
            calendar="BEGIN:VCALENDAR\r\nDESCRIPTION:" + "x" * 60 + f"{TOKEN}\r\n -folded\r\n",
        )

    found = leaks(observed)
    channels = {line.split(":")[0] for line in found}
    assert channels == {"log record", "Celery task", "URL", "e-mail"}, found
    assert any(line.startswith(f"URL: {mark}-encoded") for line in found)
    assert any(line.startswith(f"e-mail: {TOKEN}-folded") for line in found)  # calendar line
