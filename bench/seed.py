"""Seeds a benchmark database at a chosen scale, quickly.

A handful of *template* intakes and cases are made through the real services (the
demo stories: every step answered, routed, claimed, a consultation asked for), so
their rows are exactly what the app writes. Then PostgreSQL copies them with
``INSERT ... SELECT`` over ``generate_series``: every intake with all its answer
rows, its case, the case's events, flags and decision, a year of consultations and
the audit trail of reads. Ids are given explicitly (``base + n``) so each copy knows
its parent without a lookup.

Triggers are off while copying (``session_replication_role = replica``): foreign
keys were checked on the templates, and the change-history triggers would only
double the writes of rows no benchmarked page reads. The exclusion constraint that
forbids double booking is a constraint, not a trigger, so it still guards the
consultations written here.
"""

import time as clock
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from psycopg2.extras import execute_values

from clinic.models import User, WorkingHours
from clinic.roles import Role
from clinic.services import physician_profile_set, user_create
from intake import demo
from intake.models import (
    Case,
    CaseEvent,
    CaseFlag,
    Consultation,
    ConsultationType,
    Intake,
    ReviewDecision,
)
from treatments.models import BodyRegion, Priority

BENCH_DOMAIN = "bench.example"
# Every benchmark account has this password (nobody logs in with it: the runner
# makes the sessions), hashed once.
BENCH_PASSWORD = "bench-clinic-2026"  # noqa: S105 (a benchmark database's accounts)
# The stories the templates are made from (several body regions, with and without
# contraindication flags and red flags).
STORIES = [
    demo.MARIA_KNEE,
    demo.ROSA_BACK,
    demo.BEN_HIP,
    demo.LUCY_ELBOW,
    demo.OMAR_KNEE,
]
# A booked consultation's place in the day (local time); 6 a day, 30 minutes each,
# leaving most of a physician's 8-hour day free.
CONSULTATION_TIMES = [time(9), time(10), time(11), time(13, 30), time(14, 30), time(15, 30)]
# A physician's week: Monday to Friday, 08:00-12:00 and 13:00-17:00.
WORKING_WINDOWS = [(time(8), time(12)), (time(13), time(17))]


@dataclass(frozen=True)
class Scale:
    name: str
    cases: int
    open_cases: int
    physicians: int
    patients: int
    front_desk: int
    # Cases waiting for a booking (the front desk's slot search and bookings use them).
    to_book: int
    # Complete drafts waiting for a signature (the submit scenario uses one each),
    # and drafts that the step scenario saves again and again.
    ready_drafts: int
    step_drafts: int
    # Booked cases that were treated and have follow-ups, spread over the physicians
    # (large: 12,000 procedures, so 48,000 follow-ups at four time points).
    treated: int


SCALES = {
    "small": Scale(
        "small",
        cases=1_000,
        open_cases=250,
        physicians=10,
        patients=800,
        front_desk=8,
        to_book=600,
        ready_drafts=600,
        step_drafts=16,
        treated=60,
    ),
    "large": Scale(
        "large",
        cases=100_000,
        open_cases=10_000,
        physicians=50,
        patients=50_000,
        front_desk=8,
        to_book=4_000,
        ready_drafts=4_000,
        step_drafts=16,
        treated=12_000,
    ),
    # A group of clinics over years: ten times the large scale, once, to show how
    # each page's cost grows with the data (the queue and slot search are per
    # physician; the whole clinic's report reads every follow-up).
    "xlarge": Scale(
        "xlarge",
        cases=1_000_000,
        open_cases=100_000,
        physicians=500,
        patients=500_000,
        front_desk=8,
        to_book=40_000,
        ready_drafts=4_000,
        step_drafts=16,
        treated=120_000,
    ),
}


def physician_email(n: int) -> str:
    return f"dr{n}@{BENCH_DOMAIN}"


def front_desk_email(n: int) -> str:
    return f"desk{n}@{BENCH_DOMAIN}"


def patient_email(n: int) -> str:
    return f"patient{n}@{BENCH_DOMAIN}"


SEEDED_MARK = "clinic bench: {} scale"


def seeded_scale() -> str | None:
    """The scale this database was seeded at: the database's comment, written only
    once a seed has finished (a seed that stopped half-way is seeded again)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
            "WHERE datname = current_database()"
        )
        comment = cursor.fetchone()[0] or ""
    for name in SCALES:
        if comment == SEEDED_MARK.format(name):
            return name
    return None


def _mark_seeded(scale: Scale) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_database()")
        name = cursor.fetchone()[0]
        cursor.execute(
            f'COMMENT ON DATABASE "{name}" IS %s',
            [SEEDED_MARK.format(scale.name)],
        )


# --- SQL helpers ---------------------------------------------------------------------------


def _columns(table: str) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = %s ORDER BY ordinal_position",
            [table],
        )
        return [row[0] for row in cursor.fetchall()]


def _next_id(table: str) -> int:
    """The highest id in ``table``; copies take ids from here on."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        return int(cursor.fetchone()[0])


def _sync_sequence(table: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence(%s, 'id'), "  # noqa: S608
            f"(SELECT GREATEST(MAX(id), 1) FROM {table}))",
            [table],
        )


def _copy(
    table: str, *, overrides: dict[str, str], source: str, params: list[Any] | None = None
) -> int:
    """``INSERT INTO table SELECT`` every column of the template row ``t`` (found by
    ``source``, the rest of the query), except the overridden ones."""
    columns = [c for c in _columns(table) if c != "id" or "id" in overrides]
    select = [overrides.get(c, f"t.{c}") for c in columns]
    if "public_id" in columns and "public_id" not in overrides:
        select[columns.index("public_id")] = "gen_random_uuid()"
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT {', '.join(select)} {source}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount)


def _ids(values: list[int]) -> str:
    return "ARRAY[" + ",".join(str(int(v)) for v in values) + "]::bigint[]"


# --- The seed ------------------------------------------------------------------------------


@dataclass
class Templates:
    patients: list[int]
    intakes: list[int]
    cases: list[int]
    draft: int


def seed(scale: Scale, *, say: Callable[[str], None] = print) -> dict[str, float]:
    """Fills an empty, migrated database. Returns the seconds each part took."""
    timings: dict[str, float] = {}
    started = clock.perf_counter()

    def lap(label: str) -> None:
        nonlocal started
        timings[label] = clock.perf_counter() - started
        say(f"  {label}: {timings[label]:.1f} s")
        started = clock.perf_counter()

    password = make_password(BENCH_PASSWORD)
    physicians, desks = _staff(scale, password)
    lap(f"staff ({len(physicians)} physicians, {len(desks)} front desk)")
    templates = _templates(physicians)
    lap(f"{len(templates.cases)} template cases through the services")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        first_patient = _patients(scale, templates, password)
        lap(f"{scale.patients:,} patients")
        first_intake = _intakes(
            count=scale.cases,
            templates=templates.intakes,
            first_patient=first_patient,
            patient=f"1 + (g - 1) % {scale.patients}",
            created=_created(scale.cases),
            status="submitted",
        )
        lap(f"{scale.cases:,} submitted intakes with every answer")
        first_case = _cases(scale, templates, first_intake, physicians)
        lap(f"{scale.cases:,} cases")
        _case_children(templates, first_case)
        lap("case events, flags, decisions")
        _consultations(first_case, desks[0])
        lap("a year of consultations")
        _audit(first_case)
        lap("audit trail")
        followups = _followups(scale, first_case, desks[0])
        lap(f"treated cases with {followups:,} follow-ups")
        drafts = scale.ready_drafts + scale.step_drafts
        _intakes(
            count=drafts,
            templates=[templates.draft],
            first_patient=first_patient,
            patient="g",
            created="now() - interval '1 hour'",
            status="draft",
        )
        lap(f"{drafts:,} complete drafts")
        for table in _tables():
            _sync_sequence(table)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    _mark_seeded(scale)
    lap("ANALYZE")
    return timings


def _tables() -> list[str]:
    return [
        User._meta.db_table,
        Intake._meta.db_table,
        Case._meta.db_table,
        CaseEvent._meta.db_table,
        CaseFlag._meta.db_table,
        ReviewDecision._meta.db_table,
        Consultation._meta.db_table,
        *(table for table, _ in _intake_children()),
    ]


def _staff(scale: Scale, password: str) -> tuple[list[int], list[int]]:
    regions = list(BodyRegion.objects.values_list("slug", flat=True))
    physicians = []
    for n in range(1, scale.physicians + 1):
        user = user_create(
            email=physician_email(n), full_name=f"Bench Physician {n}", role=Role.PHYSICIAN
        )
        profile = physician_profile_set(
            user=user,
            display_name=f"Dr Bench {n}",
            region_slugs=regions,
            max_open_cases=1000,
        )
        WorkingHours.objects.bulk_create(
            WorkingHours(
                physician=profile,
                weekday=day,
                starts=starts,
                ends=ends,
                location="Bench clinic, room 1",
            )
            for day in range(5)
            for starts, ends in WORKING_WINDOWS
        )
        physicians.append(user.pk)
    desks = [
        user_create(
            email=front_desk_email(n), full_name=f"Bench Front Desk {n}", role=Role.FRONT_DESK
        ).pk
        for n in range(1, scale.front_desk + 1)
    ]
    User.objects.filter(pk__in=physicians + desks).update(password=password)
    TOTPDevice.objects.bulk_create(
        TOTPDevice(user_id=pk, name="Bench phone", confirmed=True) for pk in physicians + desks
    )
    return physicians, desks


def _templates(physicians: list[int]) -> Templates:
    """One submitted case per story, routed, claimed and waiting for a booking; and
    one complete draft. Made through the services, as the pages would."""
    patients, intakes, cases = [], [], []
    for n, story in enumerate(STORIES, start=1):
        patient = user_create(
            email=f"template{n}@{BENCH_DOMAIN}",
            full_name=f"Template Patient {n}",
            role=Role.PATIENT,
        )
        case = demo.demo_submitted_case(patient, story)
        if case.assigned_to_id is None:  # routing found nobody: give it to the first
            Case.objects.filter(pk=case.pk).update(assigned_to_id=physicians[0])
            case.refresh_from_db()
        demo.demo_candidate(case, note="Benchmark template.")
        patients.append(patient.pk)
        intakes.append(case.intake_id)
        cases.append(case.pk)
    drafter = user_create(
        email=f"template-draft@{BENCH_DOMAIN}", full_name="Template Draft", role=Role.PATIENT
    )
    draft = demo.demo_complete_draft(drafter, demo.MARIA_KNEE)
    return Templates(patients, intakes, cases, draft.pk)


def _created(count: int) -> str:
    """Spread over the past year, oldest first (``g`` runs 1..count)."""
    return f"now() - ({count} - g) * interval '365 days' / {count} - interval '2 hours'"


def _patients(scale: Scale, templates: Templates, password: str) -> int:
    table = User._meta.db_table
    base = _next_id(table)
    _copy(
        table,
        overrides={
            "id": f"{base} + g",
            "email": f"'patient' || g || '@{BENCH_DOMAIN}'",
            "full_name": "'Bench Patient ' || g",
            "password": "%s",
            "last_login": "NULL",
            "date_joined": "now() - interval '400 days'",
        },
        source=f"FROM generate_series(1, {scale.patients}) g JOIN {table} t ON t.id = %s",
        params=[password, templates.patients[0]],
    )
    groups = User.groups.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {groups} (user_id, group_id) "  # noqa: S608
            f"SELECT {base} + g, m.group_id FROM generate_series(1, {scale.patients}) g "
            f"JOIN {groups} m ON m.user_id = %s",
            [templates.patients[0]],
        )
    return base


def _intake_children() -> list[tuple[str, str]]:
    """(table, column naming the intake) of every row an intake owns, except files."""
    models = [cast(type[Model], rel.related_model) for rel in Intake._meta.related_objects]
    children = [
        (model._meta.db_table, rel.field.column)
        for model, rel in zip(models, Intake._meta.related_objects, strict=True)
        if model is not Case
        and not model.__name__.endswith("History")
        and model.__name__ != "ImagingFile"
    ]
    through = Intake.interested_options.through._meta.db_table
    return [*children, (through, "intake_id")]


def _intakes(
    *,
    count: int,
    templates: list[int],
    first_patient: int,
    patient: str,
    created: str,
    status: str,
) -> int:
    """``count`` copies of the template intakes (taken in turn), each with all its
    answer rows. Copy ``g`` gets id ``base + g`` and belongs to bench patient number
    ``patient`` (an expression of ``g``; patient n's id is ``first_patient + n``)."""
    table = Intake._meta.db_table
    base = _next_id(table)
    template = f"({_ids(templates)})[1 + g % {len(templates)}]"
    signed = "NULL" if status == "draft" else f"({created}) + interval '50 minutes'"
    _copy(
        table,
        overrides={
            "id": f"{base} + g",
            "patient_id": f"{first_patient} + {patient}",
            "legal_name": f"'Bench Patient ' || ({patient})",
            "status": f"'{status}'",
            "created_at": created,
            "updated_at": created,
            "submitted_at": signed,
            "signed_at": signed,
            "signature_name": "''" if status == "draft" else "t.signature_name",
        },
        source=f"FROM generate_series(1, {count}) g JOIN {table} t ON t.id = {template}",
    )
    for child, column in _intake_children():
        _copy(
            child,
            overrides={column: f"{base} + g"},
            source=(
                f"FROM generate_series(1, {count}) g JOIN {child} t ON t.{column} = {template}"
            ),
        )
    return base


def _template_case(first_case: int, templates: Templates, alias: str = "c") -> str:
    """The template a copied case was made from (copies take the templates in turn)."""
    return f"({_ids(templates.cases)})[1 + ({alias}.id - {first_case}) % {len(templates.cases)}]"


def _cases(scale: Scale, templates: Templates, first_intake: int, physicians: list[int]) -> int:
    """Newest first: the open cases, then those waiting for a booking; older ones
    are booked, or (one in five) not candidates."""
    table = Case._meta.db_table
    base = _next_id(table)
    newest = f"({scale.cases} - g)"
    # Physicians take the cases in turn (g % physicians); ``turn`` counts the rounds,
    # so that every physician gets every state and priority.
    turn = f"(g / {len(physicians)})"
    state = (
        f"CASE WHEN {newest} < {scale.open_cases} THEN "
        f"(ARRAY['submitted','under_review','info_requested','imaging_requested'])"
        f"[1 + {turn} % 4] "
        f"WHEN {newest} < {scale.open_cases + scale.to_book} THEN 'consult_requested' "
        f"WHEN {turn} % 5 = 0 THEN 'not_candidate' ELSE 'booked' END"
    )
    created = _created(scale.cases)
    priority = (
        f"CASE WHEN {turn} % 20 = 0 THEN {Priority.URGENT.value} "
        f"WHEN {turn} % 6 = 0 THEN {Priority.HIGH.value} ELSE {Priority.ROUTINE.value} END"
    )
    _copy(
        table,
        overrides={
            "id": f"{base} + g",
            "reference": "'RM-B' || to_char(g, 'FM0000000')",
            "intake_id": f"{first_intake} + g",
            "patient_id": "i.patient_id",
            "state": state,
            "assigned_to_id": f"({_ids(physicians)})[1 + g % {len(physicians)}]",
            "priority": priority,
            "main_complaint_id": (
                "(SELECT mc.id FROM intake_complaint mc WHERE mc.intake_id = i.id "
                "ORDER BY mc.pain_worst_week DESC, mc.pain_now DESC, mc.id LIMIT 1)"
            ),
            "routed_at": created,
            "waiting_since": created,
            "review_due_at": f"({created}) + interval '3 days'",
            "answer_received_at": "NULL",
            "created_at": created,
            "updated_at": created,
        },
        source=(
            f"FROM generate_series(1, {scale.cases}) g "
            f"JOIN {Intake._meta.db_table} i ON i.id = {first_intake} + g "
            f"JOIN {table} t ON t.id = ({_ids(templates.cases)})[1 + g % {len(templates.cases)}]"
        ),
    )
    return base


def _case_children(templates: Templates, first_case: int) -> None:
    cases = f"{Case._meta.db_table} c"
    copies = f"c.id > {first_case}"
    template = _template_case(first_case, templates)
    is_open = "c.state IN ('submitted','under_review','info_requested','imaging_requested')"
    declined = "c.state = 'not_candidate'"
    # Events: an open case has been submitted and routed; the others went further.
    _copy(
        CaseEvent._meta.db_table,
        overrides={
            "case_id": "c.id",
            "kind": f"CASE WHEN {declined} AND t.kind = 'candidate' THEN 'not_candidate' "
            "ELSE t.kind END",
            "actor_id": "CASE WHEN t.actor_id IS NULL THEN NULL "
            "WHEN t.kind = 'submitted' THEN c.patient_id ELSE c.assigned_to_id END",
            "to_state": f"CASE WHEN {declined} AND t.kind = 'candidate' THEN 'not_candidate' "
            "ELSE t.to_state END",
            "at": "c.created_at + (t.at - tc.created_at)",
        },
        source=(
            f"FROM {cases} JOIN {CaseEvent._meta.db_table} t ON t.case_id = {template} "
            f"JOIN {Case._meta.db_table} tc ON tc.id = t.case_id "
            f"WHERE {copies} AND (NOT {is_open} OR t.kind IN ('submitted', 'routed'))"
        ),
    )
    _copy(
        CaseFlag._meta.db_table,
        overrides={"case_id": "c.id"},
        source=f"FROM {cases} JOIN {CaseFlag._meta.db_table} t ON t.case_id = {template} "
        f"WHERE {copies}",
    )
    _copy_options(
        CaseFlag,
        template=template,
        match="tf.contraindication_id = f.contraindication_id",
        where=copies,
    )
    # One decision per decided case: a candidate (the template's) or a decline.
    decisions = ReviewDecision._meta.db_table
    _copy(
        decisions,
        overrides={
            "case_id": "c.id",
            "physician_id": "c.assigned_to_id",
            "outcome": f"CASE WHEN {declined} THEN 'not_candidate' ELSE t.outcome END",
            "consultation_type": f"CASE WHEN {declined} THEN '' ELSE t.consultation_type END",
            "consultation_mode": f"CASE WHEN {declined} THEN '' ELSE t.consultation_mode END",
            "urgency": f"CASE WHEN {declined} THEN '' ELSE t.urgency END",
            "reason": f"CASE WHEN {declined} THEN 'Benchmark: not a candidate.' ELSE t.reason END",
            "decided_at": "c.created_at + interval '1 day'",
        },
        source=f"FROM {cases} JOIN {decisions} t ON t.case_id = {template} "
        f"WHERE {copies} AND NOT {is_open}",
    )
    _copy_options(ReviewDecision, template=template, where=f"{copies} AND f.outcome = 'candidate'")


def _copy_options(
    model: type[CaseFlag] | type[ReviewDecision], *, template: str, where: str, match: str = "TRUE"
) -> None:
    """The treatment options of each copied flag or decision ``f``: those of its
    template's row ``tf`` (the one that ``match`` pairs it with)."""
    table = model._meta.db_table
    through = model.options.through._meta
    owner = next(f.column for f in through.fields if getattr(f, "related_model", None) is model)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {through.db_table} ({owner}, treatmentoption_id) "  # noqa: S608
            f"SELECT f.id, o.treatmentoption_id FROM {table} f "
            f"JOIN {Case._meta.db_table} c ON c.id = f.case_id "
            f"JOIN {table} tf ON tf.case_id = {template} AND {match} "
            f"JOIN {through.db_table} o ON o.{owner} = tf.id WHERE {where}"
        )


def _working_days(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        if day.weekday() < 5:
            yield day
        day += timedelta(days=1)


def _consultations(first_case: int, desk: int) -> None:
    """Each booked case's consultation, with its physician, six a day over the year
    that ends two weeks from now: past ones completed (one in twenty missed), the
    rest still booked."""
    kind = ConsultationType.objects.get(slug="new-consultation")
    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    days = list(_working_days(today - timedelta(days=365), today + timedelta(days=14)))
    slots = [datetime.combine(day, at, tzinfo=zone) for day in days for at in CONSULTATION_TIMES]
    booked = list(
        Case.objects.filter(pk__gt=first_case, state=Case.State.BOOKED)
        .order_by("pk")
        .values_list("pk", "assigned_to_id")
    )
    # A physician's consultations take the year's last slots, oldest case first.
    per_physician = Counter(physician for _, physician in booked)
    if max(per_physician.values(), default=0) > len(slots):
        raise ValueError("More booked cases per physician than slots in the year.")
    taken: Counter[int] = Counter()
    rows = []
    for pk, physician in booked:
        rows.append((pk, slots[len(slots) - per_physician[physician] + taken[physician]]))
        taken[physician] += 1
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE bench_slot (case_id bigint, starts_at timestamptz)")
        execute_values(cursor.cursor, "INSERT INTO bench_slot VALUES %s", rows, page_size=5000)
    table = Consultation._meta.db_table
    state = (
        "CASE WHEN s.starts_at > %s THEN 'booked' "
        "WHEN c.id %% 20 = 0 THEN 'no_show' ELSE 'completed' END"
    )
    columns = _columns(table)
    values = {
        "public_id": "gen_random_uuid()",
        "case_id": "c.id",
        "patient_id": "c.patient_id",
        "physician_id": "c.assigned_to_id",
        "consultation_type_id": str(kind.pk),
        "mode": "'in_person'",
        "starts_at": "s.starts_at",
        "ends_at": f"s.starts_at + interval '{kind.duration_minutes} minutes'",
        "location": "'Bench clinic, room 1'",
        "state": state,
        "cancel_reason": "''",
        "sequence": "0",
        "booked_by_id": str(desk),
        "created_at": "c.created_at",
        "updated_at": "c.created_at",
    }
    columns = [c for c in columns if c != "id"]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT {', '.join(values[c] for c in columns)} FROM bench_slot s "
            f"JOIN {Case._meta.db_table} c ON c.id = s.case_id",
            [now],
        )
        cursor.execute("DROP TABLE bench_slot")


def _audit(first_case: int) -> None:
    """Reads of the past year: each case viewed twice by its physician."""
    from clinic.models import AuditEvent

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {AuditEvent._meta.db_table} "  # noqa: S608
            "(at, actor_id, actor_role, patient_id, action, record_type, record_id, "
            "ip_address, request_id) "
            "SELECT c.created_at + v * interval '1 day', c.assigned_to_id, 'physician', "
            "c.patient_id, 'view', 'case', c.public_id::text, '192.0.2.1', "
            "md5(c.id::text || v::text) "
            f"FROM {Case._meta.db_table} c, generate_series(1, 2) v WHERE c.id > {first_case}"
        )


# --- Treated cases and their follow-ups (issue 21's outcomes report) ---------------------

# The options treated cases get, in turn, with what their record must hold.
TREATED_OPTIONS = ["prp", "dextrose-prolotherapy", "bone-marrow-stem-cells", "allograft"]
# A procedure (90 minutes) takes 11:45-13:15, between the 11:00 consultation (45
# minutes) and the 13:30 one, so it never overlaps a seeded consultation.
PROCEDURE_TIME = time(11, 45)


def _followups(scale: Scale, first_case: int, desk: int) -> int:
    """``scale.treated`` booked cases, an equal share of each physician's, were
    treated on a past working day: a shared plan, the procedure's consultation (at
    11:45, one a day per physician), the procedure record, and the follow-up series
    with the clinic's time points. A follow-up whose window has closed was
    answered (three in four) or missed; one whose window is open is open (or, one in
    three, answered already); later ones are planned. Answers vary by case so that the
    report's medians and shares are not constant. Returns how many follow-ups."""
    from care.models import (
        FollowUp,
        FollowUpResponse,
        FollowUpSeries,
        FollowUpTimepoint,
        PlannedOption,
        ProcedureRecord,
        TreatmentPlan,
    )
    from treatments.models import TreatmentOption

    zone = timezone.get_current_timezone()
    today = timezone.localdate()
    procedure = ConsultationType.objects.get(slug="injection-procedure")
    options = [TreatmentOption.objects.get(slug=slug) for slug in TREATED_OPTIONS]
    timepoints = list(FollowUpTimepoint.objects.filter(is_active=True).order_by("days_after"))
    chosen = list(
        Case.objects.filter(pk__gt=first_case, state=Case.State.BOOKED)
        .select_related("main_complaint")
        .only(
            "pk",
            "patient_id",
            "assigned_to_id",
            "main_complaint__body_region_id",
            "main_complaint__side",
            "main_complaint__condition_id",
            "main_complaint__pain_now",
        )
        .order_by("pk")
    )
    # Each physician's procedures are spread over the past year's working days (one a
    # day at most), newest first, so the follow-ups are in every state.
    past = list(_working_days(today - timedelta(days=365), today - timedelta(days=1)))[::-1]
    quota = -(-scale.treated // len({case.assigned_to_id for case in chosen}))
    if quota > len(past):
        raise ValueError("More procedures per physician than working days in the year.")
    stride = len(past) // quota
    done: Counter[int] = Counter()
    plans, consultations, records, series, followups, responses = [], [], [], [], [], []
    for n, case in enumerate(chosen):
        complaint = case.main_complaint
        physician = case.assigned_to_id
        if physician is None or complaint is None:
            continue
        if done[physician] >= quota:
            continue
        day = past[done[physician] * stride]
        done[physician] += 1
        case_id = case.pk
        consulted = datetime.combine(day - timedelta(days=14), time(9), tzinfo=zone)
        option = options[n % len(options)]
        starts = datetime.combine(day, PROCEDURE_TIME, tzinfo=zone)
        plan = TreatmentPlan(
            case_id=case_id,
            version=1,
            physician_id=physician,
            body_region_id=complaint.body_region_id,
            side=complaint.side,
            condition_id=complaint.condition_id,
            icd10_code="M17.11",
            sessions=1,
            weeks_between_sessions=0,
            guidance=TreatmentPlan.Guidance.ULTRASOUND,
            note_to_patient="Benchmark plan.",
            shared_at=consulted + timedelta(hours=2),
        )
        plans.append((plan, option))
        consultations.append(
            Consultation(
                case_id=case_id,
                patient_id=case.patient_id,
                physician_id=physician,
                consultation_type=procedure,
                mode="in_person",
                starts_at=starts,
                ends_at=starts + timedelta(minutes=procedure.duration_minutes),
                location="Bench clinic, room 1",
                state=Consultation.State.COMPLETED,
                booked_by_id=desk,
                created_at=consulted,
                updated_at=starts,
            )
        )
        kind = {
            "bone-marrow-stem-cells": ProcedureRecord.Kind.CELL_HARVEST,
            "allograft": ProcedureRecord.Kind.DONOR_TISSUE,
        }.get(option.slug, ProcedureRecord.Kind.INJECTION)
        donor = kind == ProcedureRecord.Kind.DONOR_TISSUE
        harvest = kind == ProcedureRecord.Kind.CELL_HARVEST
        records.append(
            ProcedureRecord(
                case_id=case_id,
                physician_id=physician,
                performed_at=starts,
                option=option,
                kind=kind,
                body_region_id=complaint.body_region_id,
                side=complaint.side,
                guidance=TreatmentPlan.Guidance.ULTRASOUND,
                volume_injected_ml=Decimal("4.0"),
                harvest_site=ProcedureRecord.HarvestSite.ILIAC_BOTH if harvest else "",
                volume_harvested_ml=Decimal("60.0") if harvest else None,
                product_name="Bench amniotic allograft" if donor else "",
                manufacturer="Bench Tissue Bank" if donor else "",
                lot_number=f"BENCH-{n % 97:03d}" if donor else "",
                lot_expires_on=day + timedelta(days=365) if donor else None,
                complication=ProcedureRecord.Complication.NONE,
            )
        )
        baseline = max(complaint.pain_now, 3)
        series.append(
            FollowUpSeries(
                case_id=case_id,
                patient_id=case.patient_id,
                body_region_id=complaint.body_region_id,
                side=complaint.side,
                treated_on=day,
                baseline_pain=baseline,
                baseline_percent_normal=Decimal(40 + n % 30),
                baseline_function=Decimal(45 + n % 25),
            )
        )
        for k, timepoint in enumerate(timepoints):
            due = day + timedelta(days=timepoint.days_after)
            opens = due - timedelta(days=timepoint.opens_days_before)
            closes = due + timedelta(days=timepoint.closes_days_after)
            followup = FollowUp(
                timepoint=timepoint,
                label=timepoint.name,
                due_on=due,
                opens_on=opens,
                closes_on=closes,
            )
            answered = False
            if closes <= today:
                answered = (n + k) % 4 != 0
                followup.state = FollowUp.State.ANSWERED if answered else FollowUp.State.MISSED
                if not answered:
                    followup.closed_at = datetime.combine(closes, time(2), tzinfo=zone)
            elif opens <= today:
                answered = (n + k) % 3 == 0
                followup.state = FollowUp.State.ANSWERED if answered else FollowUp.State.OPEN
            if opens <= today:
                followup.opened_at = datetime.combine(opens, time(7), tzinfo=zone)
            if answered:
                at = datetime.combine(min(due, today), time(19), tzinfo=zone)
                followup.answered_at = at
                # Pain falls by 0-5 points with the case and the time point; now and
                # then it rises by 3 (about one answer in 60 is 2 or more points worse
                # than baseline: the physician's "needs attention", reviewed two
                # weeks later unless it is more recent).
                rise = 3 if (n + k) % 19 == 0 else 0
                pain = min(10, max(0, baseline - (n + 2 * k) % 6 + rise))
                worse = pain - baseline >= 2
                if worse and at.date() < today - timedelta(days=14):
                    followup.attention_reviewed_at = at + timedelta(days=14)
                    followup.attention_reviewed_by_id = physician
                responses.append(
                    (
                        followup,
                        FollowUpResponse(
                            answers={},
                            pain=pain,
                            percent_normal=Decimal(min(100, 50 + 5 * (baseline - pain) + k)),
                            function_score=Decimal(min(100, 50 + 4 * (baseline - pain) + n % 7)),
                            global_change=max(-3, min(3, (baseline - pain) // 2)),
                            redness_swelling=False,
                            fever=False,
                            new_pain=worse,
                            saw_doctor=False,
                            needs_attention=worse,
                            attention_reason="Pain 2 or more points worse than before."
                            if worse
                            else "",
                            submitted_at=at,
                        ),
                    )
                )
            followups.append((len(series) - 1, followup))
    TreatmentPlan.objects.bulk_create([plan for plan, _ in plans], batch_size=2000)
    PlannedOption.objects.bulk_create(
        [PlannedOption(plan=plan, option=option) for plan, option in plans], batch_size=2000
    )
    Consultation.objects.bulk_create(consultations, batch_size=2000)
    _estimates(plans, consultations, desk)
    for record, (plan, _), consultation in zip(records, plans, consultations, strict=True):
        record.plan, record.consultation = plan, consultation
    ProcedureRecord.objects.bulk_create(records, batch_size=2000)
    for one, record in zip(series, records, strict=True):
        one.record = record
    FollowUpSeries.objects.bulk_create(series, batch_size=2000)
    for index, followup in followups:
        followup.series = series[index]
    FollowUp.objects.bulk_create([f for _, f in followups], batch_size=5000)
    for followup, response in responses:
        response.followup = followup
    FollowUpResponse.objects.bulk_create([r for _, r in responses], batch_size=5000)
    Case.objects.filter(pk__in=[plan.case_id for plan, _ in plans]).update(state=Case.State.TREATED)
    _reminders()
    return len(followups)


def _reminders() -> None:
    """The reminders an open, unanswered follow-up has had by now (the front desk's
    call list shows those whose second reminder is old enough)."""
    from django.conf import settings

    first, second = settings.FOLLOWUP_REMINDER_DAYS[:2]
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO care_followupcontact (followup_id, kind, texted, sent_at) "
            "SELECT f.id, k.kind, false, f.opened_at + k.days * interval '1 day' "
            "FROM care_followup f CROSS JOIN (VALUES ('reminder_1', %s), ('reminder_2', %s)) "
            "AS k(kind, days) "
            "WHERE f.state = 'open' AND f.opened_at + k.days * interval '1 day' <= now()",
            [first, second],
        )


def _estimates(plans: list[tuple[Any, Any]], procedures: list[Consultation], desk: int) -> None:
    """One Good Faith Estimate per treated case, issued a day after its plan was
    shared, with one line for the option planned (the estimate page's scenario)."""
    from care.models import EstimateDisclaimer, EstimateLine, GoodFaithEstimate

    disclaimer = EstimateDisclaimer.objects.get(is_current=True, language="en")
    estimates = [
        GoodFaithEstimate(
            case_id=plan.case_id,
            plan=plan,
            issued_at=plan.shared_at + timedelta(days=1),
            issued_by_id=desk,
            patient_name="Bench Patient",
            patient_date_of_birth=date(1970, 1, 1),
            primary_service=option.name,
            service_date=timezone.localdate(procedure.starts_at),
            diagnosis_codes=plan.icd10_code,
            total=Decimal("1200.00"),
            provider_name="Bench Clinic",
            provider_npi="1234567893",
            provider_tin="123456789",
            provider_location="1 Bench Street, Springfield, IL 62701",
            practitioner_name="Bench Physician, DO",
            separately_scheduled="",
            disclaimer=disclaimer,
            disclaimer_sha256=disclaimer.sha256,
        )
        for (plan, option), procedure in zip(plans, procedures, strict=True)
    ]
    GoodFaithEstimate.objects.bulk_create(estimates, batch_size=2000)
    EstimateLine.objects.bulk_create(
        [
            EstimateLine(
                estimate=estimate,
                position=1,
                description=estimate.primary_service,
                service_code="0232T",
                diagnosis_code=estimate.diagnosis_codes,
                quantity=1,
                charge=estimate.total,
            )
            for estimate in estimates
        ],
        batch_size=2000,
    )
