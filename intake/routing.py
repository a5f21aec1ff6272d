"""Where a submitted case goes, and how soon it needs a physician.

Routing rules (issue 4, in this order):

1. Eligible physicians are active, accepting new cases, take the case's body region
   and are under their maximum of open cases.
2. Continuity: a returning patient goes back to the physician who decided their
   latest earlier case, if that physician is eligible.
3. Otherwise the eligible physician with the fewest open cases; a tie goes to the one
   routed to longest ago (round-robin), then to the lowest id.
4. Nobody eligible: the case stays in the shared pool every physician sees, and the
   clinic admins are e-mailed.

Priority comes from data in ``treatments``: each red flag and each contraindication
says which priority a 'yes' raises; 'not sure' to a red flag raises 'high' so a
physician looks soon. A case that waits past the review target is raised to 'high'
by ``cases_escalate_overdue``.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone, translation

from clinic.models import PhysicianProfile, User
from clinic.roles import GROUP_NAMES, Role
from clinic.services import email_queue
from intake.models import Case, CaseEvent, CaseFlag, RedFlagAnswer, ScreeningAnswer
from treatments.models import Contraindication, Priority


def business_days_after(start: datetime, days: int) -> datetime:
    """``start`` plus ``days`` working days (Monday to Friday in the clinic's time
    zone), at the same local time of day."""
    # Arithmetic on a zoneinfo-aware datetime keeps the wall-clock time, so a day
    # that crosses a daylight-saving change still ends at the same local time.
    local = timezone.localtime(start)
    added = 0
    while added < days:
        local += timedelta(days=1)
        if local.weekday() < 5:
            added += 1
    return local


def review_due(start: datetime) -> datetime:
    return business_days_after(start, settings.REVIEW_TARGET_BUSINESS_DAYS)


@dataclass(frozen=True)
class PriorityFinding:
    priority: Priority
    reason: str


def case_priority(case: Case) -> PriorityFinding:
    """The highest priority any answer on the case raises, with the answers behind it."""
    findings: list[tuple[int, str]] = []
    red_flags = RedFlagAnswer.objects.filter(intake_id=case.intake_id).exclude(
        answer=ScreeningAnswer.Answer.NO
    )
    for answer in red_flags.select_related("red_flag"):
        if answer.answer == ScreeningAnswer.Answer.YES:
            findings.append((answer.red_flag.raises_priority, answer.red_flag.name))
        else:
            findings.append((Priority.HIGH, f"{answer.red_flag.name} (patient not sure)"))
    # A hard stop the patient is not sure about stays a hard stop until the physician
    # confirms (intake.services._flags_raise), so it raises what a "yes" would.
    flags = CaseFlag.objects.filter(case=case).filter(
        Q(patient_answer=ScreeningAnswer.Answer.YES)
        | Q(
            patient_answer=ScreeningAnswer.Answer.UNSURE,
            severity=Contraindication.Severity.HARD_STOP,
        )
    )
    for flag in flags.select_related("contraindication"):
        if flag.contraindication.raises_priority < Priority.ROUTINE:
            label = Contraindication.Severity(flag.severity).label.lower()
            unsure = flag.patient_answer == ScreeningAnswer.Answer.UNSURE
            text = f"{label}: {flag.rule}" + (" (patient not sure)" if unsure else "")
            findings.append((flag.contraindication.raises_priority, text))
    if not findings:
        return PriorityFinding(Priority.ROUTINE, "No red flags and no hard stops.")
    top = min(level for level, _ in findings)
    reasons = [text for level, text in findings if level == top]
    return PriorityFinding(Priority(top), f"{Priority(top).label}: " + "; ".join(reasons) + ".")


@dataclass(frozen=True)
class Eligible:
    profile: PhysicianProfile
    open_cases: int


def _eligible(case: Case) -> list[Eligible]:
    """Eligible physicians' profiles, locked (in id order, so two routings never
    deadlock) so two cases routed at once cannot both take a physician's last place."""
    if case.body_region_id is None:
        return []
    candidates = list(
        PhysicianProfile.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(
            user__is_active=True,
            user__groups__name=GROUP_NAMES[Role.PHYSICIAN],
            accepting_new_cases=True,
            body_regions=case.body_region_id,
        )
        .order_by("pk")
    )
    loads = dict(
        Case.objects.open()
        .filter(assigned_to__in=[p.user_id for p in candidates])
        .values_list("assigned_to")
        .annotate(n=Count("pk"))
        .values_list("assigned_to", "n")
    )
    loaded = [Eligible(p, loads.get(p.user_id, 0)) for p in candidates]
    return [e for e in loaded if e.open_cases < e.profile.max_open_cases]


def _previous_physician(case: Case) -> tuple[User, str] | None:
    """Who decided the patient's latest earlier case, and that case's reference."""
    earlier = (
        Case.objects.filter(patient_id=case.patient_id, created_at__lt=case.created_at)
        .filter(decisions__isnull=False)
        .order_by("-created_at")
        .first()
    )
    if earlier is None:
        return None
    decision = earlier.decisions.select_related("physician").order_by("-decided_at").first()
    assert decision is not None  # noqa: S101 (filtered on decisions above)
    return decision.physician, earlier.reference


def case_route(*, case_id: int) -> Case:
    """Puts a submitted case in a physician's queue (or the pool) and records why.

    Safe to run twice: a case already routed is left as it is."""
    with transaction.atomic():
        case = (
            Case.objects.select_for_update(of=("self",))
            .select_related("body_region")
            .get(pk=case_id)
        )
        if case.routed_at is not None:
            return case
        region = case.body_region.name.lower() if case.body_region else "unknown-region"
        eligible = _eligible(case)
        pick: Eligible | None = None
        previous = _previous_physician(case)
        if previous is not None:
            pick = next((e for e in eligible if e.profile.user_id == previous[0].pk), None)
        if pick is not None and previous is not None:
            reason = (
                f"Routed to {pick.profile.display_name}: reviewed this patient's earlier case "
                f"{previous[1]}; takes {region} cases; {_count(pick.open_cases, 'open case')}"
            )
        elif eligible:
            epoch = datetime.min.replace(tzinfo=timezone.get_current_timezone())
            pick = min(
                eligible,
                key=lambda e: (e.open_cases, e.profile.last_routed_at or epoch, e.profile.pk),
            )
            reason = (
                f"Routed to {pick.profile.display_name}: takes {region} cases; "
                f"{_count(pick.open_cases, 'open case')}, fewest of {len(eligible)} eligible"
            )
            tied = sum(e.open_cases == pick.open_cases for e in eligible)
            if tied > 1:
                reason += f" (tied with {tied - 1}; taken in turn)"
        else:
            reason = f"Unassigned pool: {_why_nobody(case, region)}"

        now = timezone.now()
        case.routed_at = now
        chosen = pick.profile if pick is not None else None
        if chosen is not None:
            case.assigned_to = chosen.user
            chosen.last_routed_at = now
            chosen.save(update_fields=["last_routed_at"])
        case.save(update_fields=["routed_at", "assigned_to", "updated_at"])
        CaseEvent.objects.create(
            case=case,
            kind=CaseEvent.Kind.ROUTED,
            from_state=case.state,
            to_state=case.state,
            note=reason,
        )
        if chosen is None:
            link = settings.SITE_URL + reverse("review:case", kwargs={"public_id": case.public_id})
            # An urgent case in the pool has nobody to see it yet: the e-mail says it
            # is urgent, never why (health details stay on the case page).
            urgent = case.priority == Priority.URGENT
            subject = f"Case {case.reference} is waiting in the unassigned pool"
            # Staff read English, whoever's request (a Spanish patient's submit, when
            # tasks run in-process) led to the e-mail.
            with translation.override(settings.LANGUAGE_CODE):
                for admin in clinic_admins():
                    email_queue(
                        to=admin.email,
                        subject=f"URGENT: {subject}" if urgent else subject,
                        template="emails/case_unassigned.txt",
                        context={"case": case, "reason": reason, "link": link, "urgent": urgent},
                    )
        elif case.priority == Priority.URGENT:
            urgent_case_notify(case, chosen.user)
    return case


def urgent_case_notify(case: Case, physician: User) -> None:
    """Tells a physician at once that an urgent case is in their queue."""
    profile = getattr(physician, "physician_profile", None)
    link = settings.SITE_URL + reverse("review:case", kwargs={"public_id": case.public_id})
    with translation.override(settings.LANGUAGE_CODE):  # staff read English
        email_queue(
            to=physician.email,
            subject=f"Urgent case {case.reference} in your queue",
            template="emails/case_urgent.txt",
            context={
                "case": case,
                "physician": profile.display_name if profile else physician.full_name,
                "link": link,
            },
        )


def clinic_admins() -> list[User]:
    return list(
        User.objects.filter(is_active=True)
        .filter(Q(groups__name=GROUP_NAMES[Role.CLINIC_ADMIN]) | Q(is_superuser=True))
        .distinct()
        .order_by("pk")
    )


def _why_nobody(case: Case, region: str) -> str:
    takers = PhysicianProfile.objects.filter(
        user__is_active=True, body_regions=case.body_region_id
    ).count()
    if takers == 0:
        return f"no active physician takes {region} cases."
    return (
        f"the {_count(takers, 'physician')} taking {region} cases "
        "are not accepting new cases or are at their maximum."
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def cases_escalate_overdue(*, now: datetime | None = None) -> int:
    """Raises routine cases still waiting for a physician past their review target
    to 'high', with an event. Safe to run twice or in parallel: rows another run
    holds are skipped, and a case already raised is no longer routine."""
    now = now or timezone.now()
    with transaction.atomic():
        overdue = list(
            Case.objects.select_for_update(skip_locked=True)
            .filter(
                state__in=Case.AWAITING_PHYSICIAN,
                priority=Priority.ROUTINE,
                review_due_at__lt=now,
            )
            .only("pk", "state")
        )
        note = (
            f"High: waiting past the review target ({settings.REVIEW_TARGET_BUSINESS_DAYS} "
            "working days)."
        )
        Case.objects.filter(pk__in=[c.pk for c in overdue]).update(
            priority=Priority.HIGH, priority_reason=note, updated_at=now
        )
        CaseEvent.objects.bulk_create(
            CaseEvent(
                case_id=c.pk,
                kind=CaseEvent.Kind.PRIORITY_CHANGED,
                from_state=c.state,
                to_state=c.state,
                note=note,
            )
            for c in overdue
        )
    return len(overdue)
