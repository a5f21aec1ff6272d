"""The follow-up part of ``seed_demo``: three treated patients with a year (or part
of one) of follow-ups, so the charts, the queue's "needs attention" list, the call
list and the outcomes report have something to show.

- Helen (right knee, PRP) was treated 13 months ago: answered at 6 weeks, 3 and 6
  months (pain 6 -> 4 -> 3 -> 2: meaningful improvement), missed at 12 months.
- Victor (left knee, PRP) was treated 6 and a half months ago: at 6 weeks his knee
  was red and swollen and more painful (the physician's "needs attention"); the
  3-month one was missed; the 6-month one is open now (he can answer it in the demo,
  and it is on the front desk's call list).
- Nora (right hip, dextrose) was treated 4 months ago: answered at 6 weeks, missed
  at 3 months.

They said at intake that they use insurance, so no Good Faith Estimate is owed (an
estimate issued at booking would name the day the demo first books, not the day it
then moves the procedure back to). Built through the services the pages use. Only
times are set in the past directly: the procedure's consultation (as ``care.demo``
does; no service books the past) and the moments each follow-up was answered, which
the service stamps with "now". Never run on a real clinic (seed_demo refuses).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import F
from django.utils import timezone

from care.demo import demo_billing_provider
from care.models import FollowUp, FollowUpContact, FollowUpResponse
from care.services import followups, plans, procedures
from care.services.procedure_records import ProcedureDetails, procedure_record
from clinic.models import PhysicianProfile, User
from clinic.roles import Role
from clinic.services import user_create
from intake import demo
from intake.models import Consultation, Intake
from intake.routing import case_route
from intake.scheduling import consultation_move, free_slots
from treatments.models import BodyRegion, Condition, TreatmentOption


@dataclass(frozen=True)
class Answered:
    pain: int
    percent: int
    activity: int  # one value (0 no difficulty .. 4 unable) for every daily activity
    global_change: int
    swelling: bool = False


@dataclass(frozen=True)
class FollowUpStory:
    email: str
    name: str
    case: demo.DemoCase
    option: str
    icd10: str
    days_ago: int
    # By time point name; a name left out is not answered (missed, or still open).
    answers: dict[str, Answered]


STORIES = [
    FollowUpStory(
        "helen@clinic.example",
        "Helen Brooks",
        demo.DemoCase(
            region="knee",
            condition="knee-osteoarthritis",
            side="right",
            pain_now=6,
            pain_worst_week=8,
            born=date(1957, 6, 14),
            sex="female",
            city="Springfield",
            medicines="Paracetamol when needed",
            goals="Walk to the shops and back without stopping.",
            interested=("prp",),
            payment="insurance",
        ),
        "prp",
        "M17.11",
        400,
        {
            "6 weeks": Answered(4, 60, 2, 1),
            "3 months": Answered(3, 70, 1, 2),
            "6 months": Answered(2, 80, 1, 2),
        },
    ),
    FollowUpStory(
        "victor@clinic.example",
        "Victor Novak",
        demo.DemoCase(
            region="knee",
            condition="knee-osteoarthritis",
            side="left",
            pain_now=6,
            pain_worst_week=7,
            born=date(1964, 2, 3),
            sex="male",
            city="Union",
            medicines="Metformin 500 mg twice daily",
            goals="Get back to cycling.",
            interested=("prp",),
            payment="insurance",
        ),
        "prp",
        "M17.12",
        195,
        {"6 weeks": Answered(8, 30, 3, -2, swelling=True)},
    ),
    FollowUpStory(
        "nora@clinic.example",
        "Nora Walsh",
        demo.DemoCase(
            region="hip",
            condition="hip-osteoarthritis",
            side="right",
            pain_now=7,
            pain_worst_week=8,
            born=date(1970, 9, 21),
            sex="female",
            city="Springfield",
            medicines="Naproxen 250 mg when needed",
            goals="Sleep through the night.",
            interested=("dextrose-prolotherapy",),
            payment="insurance",
        ),
        "dextrose-prolotherapy",
        "M16.11",
        120,
        {"6 weeks": Answered(5, 50, 2, 1)},
    ),
]


CONTACT_KINDS = [k for k, _ in FollowUpContact.Kind.choices]


def _local(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _treated(story: FollowUpStory, patient: User, front_desk: User) -> FollowUp | None:
    case = case_route(case_id=demo.demo_submitted_case(patient, story.case).pk)
    if case.assigned_to is None:
        return None
    case = demo.demo_candidate(case, note="Demo: injection discussed at the consultation.")
    physician = case.assigned_to
    assert physician is not None  # noqa: S101 (a candidate case has its physician)
    plan = plans.plan_draft_save(
        case=case,
        physician=physician,
        draft=plans.PlanDraft(
            options=list(TreatmentOption.objects.filter(slug=story.option)),
            body_region=BodyRegion.objects.get(slug=story.case.region),
            side=story.case.side,
            condition=Condition.objects.filter(slug=story.case.condition).first(),
            icd10_code=story.icd10,
            sessions=1,
            weeks_between_sessions=0,
            guidance="ultrasound",
            note_to_patient="One injection; we ask how you are at 6 weeks, 3, 6 and 12 months.",
        ),
    )
    plans.plan_share(plan=plan, physician=physician)
    slot = free_slots(
        physician=PhysicianProfile.objects.get(user=physician),
        consultation_type=procedures.procedure_type(),
        start_day=timezone.localdate() + timedelta(days=21),
        days=21,
    )[0]
    procedure = procedures.procedure_book(case=case, starts_at=slot.starts_at, booked_by=front_desk)
    # Held ``days_ago``: moved to now to check in and complete (check-in is on the day
    # only), then back to its day, at the same time of day.
    now_shift = procedure.starts_at - timezone.now()
    Consultation.objects.filter(pk=procedure.pk).update(
        starts_at=F("starts_at") - now_shift, ends_at=F("ends_at") - now_shift
    )
    procedure.refresh_from_db()
    consultation_move(consultation=procedure, action="check_in", by=front_desk)
    consultation_move(consultation=procedure, action="complete", by=front_desk)
    # Back to its day, at 10:00 (the clock's time of day would put it at night).
    back = procedure.starts_at - _local(timezone.localdate() - timedelta(days=story.days_ago), 10)
    Consultation.objects.filter(pk=procedure.pk).update(
        starts_at=F("starts_at") - back, ends_at=F("ends_at") - back
    )
    procedure.refresh_from_db()
    record = procedure_record(
        consultation=procedure,
        physician=physician,
        details=ProcedureDetails(
            performed_at=procedure.starts_at + timedelta(minutes=10),
            option=TreatmentOption.objects.get(slug=story.option),
            body_region=BodyRegion.objects.get(slug=story.case.region),
            side=story.case.side,
            guidance="ultrasound",
            volume_injected_ml=Decimal("4.0"),
        ),
    )
    return record.followup_series.followups.order_by("due_on").first()


def _answer_as_then(followup: FollowUp, patient: User, given: Answered) -> None:
    followups.followup_answer(
        followup=followup,
        patient=patient,
        answers=followups.FollowUpAnswers(
            instruments={
                followups.PAIN: {1: given.pain},
                followups.PERCENT_NORMAL: {1: given.percent},
                followups.DAILY_ACTIVITIES: dict.fromkeys(range(1, 9), given.activity),
            },
            global_change=given.global_change,
            redness_swelling=given.swelling,
            fever=False,
            new_pain=given.swelling,
            saw_doctor=False,
        ),
    )
    # Answered on the day it was due, at 7 in the evening.
    then = _local(followup.due_on, 19)
    FollowUp.objects.filter(pk=followup.pk).update(answered_at=then)
    FollowUpResponse.objects.filter(followup=followup).update(submitted_at=then)


def seed_followups(*, front_desk: User, password: str) -> list[str]:
    """Adds the three stories above once (a patient who has an intake is left
    alone); returns a line for each, for seed_demo's summary."""
    demo_billing_provider()
    lines = []
    for story in STORIES:
        patient = User.objects.filter(email=story.email).first()
        if patient is None:
            patient = user_create(
                email=story.email, full_name=story.name, role=Role.PATIENT, password=password
            )
        if Intake.objects.filter(patient=patient).exists():
            continue
        first = _treated(story, patient, front_desk)
        if first is None:
            continue
        for followup in first.series.followups.order_by("due_on"):
            opening = _local(followup.opens_on, 9)
            if opening > timezone.now():
                break
            followups.followups_run(now=opening)
            followup.refresh_from_db()
            given = story.answers.get(followup.label)
            if given is not None and followup.state == FollowUp.State.OPEN:
                _answer_as_then(followup, patient, given)
                continue
            # Not answered: the two reminders, each sent when it fell due.
            for kind, days in zip(CONTACT_KINDS[1:], (3, 7), strict=True):
                if opening + timedelta(days=days) < timezone.now():
                    followups.followups_run(now=opening + timedelta(days=days))
                    FollowUpContact.objects.filter(followup=followup, kind=kind).update(
                        sent_at=opening + timedelta(days=days)
                    )
            FollowUpContact.objects.filter(
                followup=followup, kind=FollowUpContact.Kind.INVITATION
            ).update(sent_at=opening)
        # The missed ones marked as of today.
        followups.followups_run()
        states = ", ".join(
            f"{f.label} {f.get_state_display().lower()}"
            for f in first.series.followups.order_by("due_on")
        )
        lines.append(
            f"{story.name} ({story.email}), treated {story.days_ago} days ago "
            f"(case {first.series.case.reference}): follow-ups {states}."
        )
    return lines
