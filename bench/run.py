"""The benchmark: ``python -m bench.run --scale small|large`` (``make bench``).

1. Seeds a PostgreSQL database for the scale (``bench/seed.py``), unless it already
   holds that scale (``--reseed`` starts again).
2. Signs the benchmark's people in (one session row each) and writes what every
   scenario requests to a JSON file for locust.
3. Runs ``EXPLAIN`` on every query of the queue, case and slot-search pages and
   reports sequential scans of large tables.
4. Serves the app with gunicorn and the production settings (DEBUG off, persistent
   database connections), and runs locust headless from a second process, one
   scenario at a time for ``--seconds`` each with ``--users`` users.
5. Prints one table: requests/s, p50/p95/p99, queries per request, the ratio to the
   floor, and the gunicorn workers' peak RSS.

Exits non-zero when any request failed (a wrong status is a failure), so CI can run
it as a smoke check at the small scale. Timings never fail it.
"""

import argparse
import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import dj_database_url

ROOT = Path(__file__).resolve().parent.parent
LOCUST = ROOT / ".venv-bench" / "bin" / "locust"
SCENARIOS = {
    "floor": ("Floor", "floor (no table, same middleware)"),
    "signed_in": ("SignedInFloor", "signed-in floor (physician, no page)"),
    "queue": ("Queue", "physician's queue (filters)"),
    "case": ("CasePage", "case page"),
    "step": ("StepSave", "intake step save (POST)"),
    "submit": ("Submit", "intake submit + routing (POST)"),
    "slots": ("SlotSearch", "free-slot search, 14 days"),
    "booking": ("Booking", "booking (POST)"),
    "report": ("OutcomesReport", "outcomes report (whole clinic, filters)"),
    "plan": ("PlanPage", "treatment plan page"),
    "estimate": ("EstimatePage", "Good Faith Estimate page"),
    "followup": ("FollowUpPage", "follow-up questionnaire (patient)"),
    "calls": ("CallList", "follow-up call list (front desk)"),
    "fhir": ("CaseExport", "case as FHIR R4 (download)"),
}
# The pages after the consultation (one of each is explained and timed in-process).
CARE_PAGES = ("plan", "estimate", "followup", "calls", "fhir")
# Tables this big or bigger must not be read by a sequential scan.
LARGE_TABLE_ROWS = 10_000
CSRF_SECRET = "benchcsrf" + "0" * 23  # 32 characters, as Django's cookie holds


def default_database_url(scale: str) -> str:
    """The benchmark's own database for a scale (``BENCH_DATABASE_URL`` overrides)."""
    return os.environ.get(
        "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/clinic_bench_{scale}"
    )


def _environment(args: argparse.Namespace) -> dict[str, str]:
    """What both this process and gunicorn run with: production settings."""
    return {
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DEBUG": "false",
        "SECRET_KEY": "bench-only-" + "k" * 60,
        "DATABASE_URL": args.database_url,
        "CONN_MAX_AGE": "600",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "false",
        # Tasks run in the request (routing is part of the submit; the booking
        # renders its e-mail); e-mail goes nowhere.
        "CELERY_BROKER_URL": "",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
        "SMS_BACKEND": "intake.notifications.ConsoleSmsBackend",
        "LOG_LEVEL": "WARNING",
        "SITE_URL": f"http://127.0.0.1:{args.port}",
    }


def _database(url: str, *, fresh: bool) -> bool:
    """Makes sure the database exists (empty when ``fresh``); True if it was made."""
    import psycopg2

    db = dj_database_url.parse(url)
    name = db["NAME"]
    admin = psycopg2.connect(
        # A Unix socket's folder comes as ?host=... (the embedded PostgreSQL).
        host=db["HOST"] or db.get("OPTIONS", {}).get("host") or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"] or "postgres",
        dbname="postgres",
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cursor.fetchone() is not None
        if exists and fresh:
            cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    return not exists


def _manage(*command: str) -> None:
    subprocess.run([sys.executable, "manage.py", *command], cwd=ROOT, check=True)  # noqa: S603


# --- Who requests what ---------------------------------------------------------------------


def _session(user: Any) -> str:
    """A signed-in session for ``user`` (staff with their second factor given), as
    a login would leave it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from clinic.middleware import LAST_SEEN, SIGNED_IN_AT

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session[SIGNED_IN_AT] = session[LAST_SEEN] = time.time()
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is not None:
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.create()
    assert session.session_key is not None  # noqa: S101
    return session.session_key


def _state(args: argparse.Namespace) -> dict[str, Any]:
    from django.urls import reverse
    from django.utils import timezone

    from bench.seed import SCALES, front_desk_email, physician_email
    from clinic.models import PhysicianProfile, User
    from intake.models import Case, Intake
    from intake.scheduling import booking_request, free_slots
    from tests.intake.step_posts import STEP_POSTS, consent_post
    from treatments.models import BodyRegion

    scale = SCALES[args.scale]
    users = args.users
    physicians = list(
        User.objects.filter(email__in=[physician_email(n) for n in range(1, users + 1)])
    )
    desks = list(User.objects.filter(email__in=[front_desk_email(n) for n in range(1, users + 1)]))
    knee = BodyRegion.objects.get(slug="knee").pk
    filters = [
        "?tab=mine",
        f"?tab=mine&body_region={knee}&sort=waiting",
        "?tab=mine&flags=any&priority=3",
        "?tab=mine&state=under_review&sort=newest",
        "?tab=mine&page=2",
    ]
    queue = reverse("review:queue")
    state: dict[str, Any] = {"csrf": CSRF_SECRET, "host": f"http://127.0.0.1:{args.port}"}
    state["floor"] = {"users": [{"session": "", "items": ["/bench/floor"]}]}
    doctor_sessions = [(p, _session(p)) for p in physicians]
    state["signed_in"] = {
        "users": [{"session": s, "items": ["/bench/floor/signed-in"]} for _, s in doctor_sessions]
    }
    state["queue"] = {
        "users": [{"session": s, "items": [queue + f for f in filters]} for _, s in doctor_sessions]
    }
    state["case"] = {
        "users": [
            {
                "session": s,
                "items": [
                    reverse("review:case", kwargs={"public_id": c})
                    for c in Case.objects.open_for(p).values_list("public_id", flat=True)[:100]
                ],
            }
            for p, s in doctor_sessions
        ]
    }
    # Drafts: the first step_drafts for step saves, the rest to submit.
    drafts = list(
        Intake.objects.filter(status=Intake.Status.DRAFT, patient__email__startswith="patient")
        .select_related("patient")
        .order_by("pk")
    )
    steppers, ready = drafts[: scale.step_drafts], drafts[scale.step_drafts :]
    bodies = {n: urlencode(make(), doseq=True) for n, make in STEP_POSTS.items() if n != 6}
    state["step"] = {
        "users": [
            {
                "session": _session(d.patient),
                "items": [
                    {
                        "path": reverse(
                            "intake:step", kwargs={"public_id": d.public_id, "step": n}
                        ),
                        "body": body,
                    }
                    for n, body in bodies.items()
                ],
            }
            for d in steppers
        ]
    }
    wanted = min(len(ready), args.seconds * args.pool_per_second)
    state["submit"] = {
        "users": [{"session": "", "items": []}],
        "pool": [
            {
                "session": _session(d.patient),
                "path": reverse("intake:step", kwargs={"public_id": d.public_id, "step": 8}),
                "body": urlencode(consent_post(name=d.legal_name)),
            }
            for d in ready[:wanted]
        ],
    }
    # Booking: cases waiting for one, each with a free slot of its own physician
    # (non-overlapping, so every booking can succeed). Slot searches use others.
    to_book = list(
        Case.objects.filter(state=Case.State.CONSULT_REQUESTED)
        .select_related("intake", "assigned_to")
        .order_by("pk")
    )
    searched, bookable = to_book[: len(to_book) // 10], to_book[len(to_book) // 10 :]
    book_page = "frontdesk:book"
    desk_sessions = [_session(d) for d in desks]
    state["slots"] = {
        "users": [
            {
                "session": s,
                "items": [
                    reverse(book_page, kwargs={"public_id": c.public_id})
                    for c in searched[n::users]
                ],
            }
            for n, s in enumerate(desk_sessions)
        ]
    }
    free: dict[int, list[Any]] = {}
    # After the seeded consultations (which reach two weeks ahead), four weeks of
    # empty calendars: enough slots for every booking of a long run.
    first_day = timezone.localdate() + timedelta(days=15)
    pool: list[dict[str, str]] = []
    for case in bookable:
        if len(pool) >= args.seconds * args.pool_per_second:
            break
        physician_id = case.assigned_to_id
        if physician_id is None:
            continue
        if physician_id not in free:
            profile = PhysicianProfile.objects.get(user_id=physician_id)
            kind = booking_request(case).consultation_type
            slots = free_slots(
                physician=profile, consultation_type=kind, start_day=first_day, days=28
            )
            apart, last_end = [], None
            for slot in slots:
                if last_end is None or slot.starts_at >= last_end:
                    apart.append(slot)
                    last_end = slot.ends_at
            free[physician_id] = apart
        if not free[physician_id]:
            continue
        slot = free[physician_id].pop(0)
        pool.append(
            {
                "path": reverse(book_page, kwargs={"public_id": case.public_id}),
                "body": urlencode({"starts_at": slot.starts_at.isoformat()}),
            }
        )
    state["booking"] = {
        "users": [{"session": s, "items": []} for s in desk_sessions],
        "pool": pool,
    }
    # The outcomes report: the whole clinic, one physician's patients, the last six
    # months' treatments, both.
    report = reverse("care:outcomes")
    half_year = (timezone.localdate() - timedelta(days=182)).isoformat()
    state["report"] = {
        "users": [
            {
                "session": s,
                "items": [
                    report,
                    f"{report}?physician={p.pk}",
                    f"{report}?treated_from={half_year}",
                    f"{report}?physician={p.pk}&treated_from={half_year}",
                ],
            }
            for p, s in doctor_sessions
        ]
    }
    _care_state(state, doctor_sessions, desk_sessions, users)
    return state


def _care_state(
    state: dict[str, Any], doctors: list[tuple[Any, str]], desks: list[str], users: int
) -> None:
    """After the consultation: each physician's treated cases (plan page, FHIR export),
    their estimates, the front desk's call list, and open follow-ups to answer (one
    patient each)."""
    from django.urls import reverse

    from bench.seed import BENCH_DOMAIN
    from care.models import FollowUp, GoodFaithEstimate
    from intake.models import Case

    def treated(physician: Any) -> list[str]:
        cases = Case.objects.filter(assigned_to=physician, state=Case.State.TREATED)
        return [str(c) for c in cases.order_by("pk").values_list("public_id", flat=True)[:50]]

    mine = [(p, s, treated(p)) for p, s in doctors]
    state["plan"] = {
        "users": [
            {"session": s, "items": [reverse("care:plan", args=[c]) for c in cases]}
            for _, s, cases in mine
        ]
    }
    state["fhir"] = {
        "users": [
            {"session": s, "items": [reverse("records:case_fhir", args=[c]) for c in cases]}
            for _, s, cases in mine
        ]
    }
    state["estimate"] = {
        "users": [
            {
                "session": s,
                "items": [
                    reverse("care:estimate", args=[e])
                    for e in GoodFaithEstimate.objects.filter(plan__physician=p)
                    .order_by("pk")
                    .values_list("public_id", flat=True)[:50]
                ],
            }
            for p, s, _ in mine
        ]
    }
    state["calls"] = {
        "users": [{"session": s, "items": [reverse("care:followup_calls")]} for s in desks]
    }
    patients: dict[int, Any] = {}
    for followup in (
        FollowUp.objects.filter(
            state=FollowUp.State.OPEN, series__patient__email__endswith=BENCH_DOMAIN
        )
        .select_related("series__patient")
        .order_by("pk")
    ):
        patients.setdefault(followup.series.patient_id, followup)
        if len(patients) == users:
            break
    state["followup"] = {
        "users": [
            {
                "session": _session(f.series.patient),
                "items": [reverse("care:followup", args=[f.public_id])],
            }
            for f in patients.values()
        ]
    }


# --- EXPLAIN -------------------------------------------------------------------------------


@dataclass
class Plan:
    page: str
    queries: int = 0
    explained: int = 0
    seq_scans: list[tuple[str, int]] = field(default_factory=list)


def _scans(node: dict[str, Any]) -> list[str]:
    found = [node["Relation Name"]] if node.get("Node Type") == "Seq Scan" else []
    for child in node.get("Plans", []):
        found += _scans(child)
    return found


def select_of(sql: str) -> str | None:
    """The SELECT a logged statement runs, or None if it is not a read. Two wrappers
    are taken off: pghistory's context (a ``set_config`` before the statement) and a
    server-side cursor (``DECLARE … FOR SELECT``, as ``.iterator()`` and a form's
    model choices read)."""
    if sql.startswith("SELECT set_config('pghistory."):
        sql = sql.split("; ", 1)[-1]
    if sql.startswith("DECLARE ") and " CURSOR " in sql:
        sql = sql.split(" FOR ", 1)[-1]
    return sql if sql.lstrip().upper().startswith("SELECT") else None


def _explain(state: dict[str, Any]) -> list[Plan]:
    """Every SELECT of one request per page, through EXPLAIN: which tables are read
    by a sequential scan, and how many rows those tables hold."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reltuples::bigint FROM pg_class "
            "WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
        )
        rows = dict(cursor.fetchall())
    plans = []
    pages = [
        *(("queue", path) for path in state["queue"]["users"][0]["items"]),
        *(("case", path) for path in state["case"]["users"][0]["items"][:3]),
        *(("slots", path) for path in state["slots"]["users"][0]["items"][:3]),
        *(("report", path) for path in state["report"]["users"][0]["items"]),
        *((name, state[name]["users"][0]["items"][0]) for name in CARE_PAGES),
    ]
    for n, (name, page) in enumerate(pages):
        client = Client(HTTP_HOST="127.0.0.1")
        users = state[name]["users"]
        client.cookies[settings.SESSION_COOKIE_NAME] = users[0]["session"]
        with CaptureQueriesContext(connection) as captured:
            response = client.get(page)
        if response.status_code != 200:
            raise SystemExit(f"EXPLAIN: {page} answered {response.status_code}")
        shown = name + (f" {page.split('?', 1)[1]}" if "?" in page else f" #{n}")
        plan = Plan(shown, queries=len(captured.captured_queries))
        for query in captured.captured_queries:
            sql = select_of(query["sql"])
            if sql is None:
                continue
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (FORMAT JSON) " + sql)
                tree = cursor.fetchone()[0]
            if isinstance(tree, str):
                tree = json.loads(tree)
            if not isinstance(tree, list):
                raise SystemExit(f"EXPLAIN gave {tree!r} for {sql}")
            plan.explained += 1
            for table in _scans(tree[0]["Plan"]):
                plan.seq_scans.append((table, int(rows.get(table, 0))))
        plans.append(plan)
    return plans


IN_PROCESS_ROUNDS = 10


def _in_process(state: dict[str, Any]) -> list[str]:
    """The median time of one request per page in this process (Django's test client,
    the production settings, the first request of each page made once before): the
    page's own cost, without the network, gunicorn or the load generator."""
    from statistics import median

    from django.conf import settings
    from django.test import Client

    lines = [
        f"| Page (in-process, median of {IN_PROCESS_ROUNDS}) | ms |",
        "|---|---:|",
    ]
    pages = [
        ("signed_in", "signed-in floor"),
        ("queue", "physician's queue"),
        ("case", "case page"),
        ("slots", "free-slot search"),
        ("report", "outcomes report"),
        *((name, SCENARIOS[name][1]) for name in CARE_PAGES),
    ]
    for name, label in pages:
        user = state[name]["users"][0]
        if not user["items"]:
            continue
        client = Client(HTTP_HOST="127.0.0.1")
        client.cookies[settings.SESSION_COOKIE_NAME] = user["session"]
        for path in user["items"]:
            timings = []
            for _ in range(IN_PROCESS_ROUNDS + 1):
                started = time.perf_counter()
                response = client.get(path)
                timings.append(1000 * (time.perf_counter() - started))
            if response.status_code != 200:
                raise SystemExit(f"In-process: {path} answered {response.status_code}")
            shown = f" {path.split('?', 1)[1]}" if "?" in path else ""
            lines.append(f"| {label}{shown} | {median(timings[1:]):.1f} |")
            if name in ("case", "slots", *CARE_PAGES):
                break
    return lines


# --- Serving and load ----------------------------------------------------------------------


def _serve(args: argparse.Namespace, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    gunicorn = Path(sys.executable).parent / "gunicorn"
    server = subprocess.Popen(  # noqa: S603
        [
            str(gunicorn),
            "clinic.wsgi:application",
            "--bind",
            f"127.0.0.1:{args.port}",
            "--workers",
            str(args.workers),
            "--access-logfile",
            str(log),
            "--error-logfile",
            str(log.with_suffix(".err")),
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{args.port}/healthz", timeout=2
            ) as response:
                if response.status == 200:
                    return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz; see {log.with_suffix('.err')}")


def _workers(server: subprocess.Popen[bytes]) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def _peak_rss_mb(pids: list[int]) -> float:
    """The highest peak resident set (VmHWM) among the workers, in MB."""
    peak = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]))
        except OSError:
            continue
    return peak / 1024


@dataclass
class Result:
    scenario: str
    requests: int
    failures: int
    rps: float
    p50: float
    p95: float
    p99: float
    queries: float | None
    queries_spread: tuple[int, int] | None
    rss_mb: float
    ran_dry: bool
    first_failure: str = ""


def _number(cell: str) -> float:
    """A figure from locust's CSV ("N/A" when the scenario made no request)."""
    try:
        return float(cell)
    except ValueError:
        return 0.0


def _load(
    args: argparse.Namespace, scenario: str, state_path: Path, work: Path, server_pids: list[int]
) -> Result:
    user_class, _ = SCENARIOS[scenario]
    prefix = work / scenario
    queries_out = work / f"{scenario}-queries.json"
    env = {
        **os.environ,
        "BENCH_STATE": str(state_path),
        "BENCH_QUERIES_OUT": str(queries_out),
    }
    with open(work / f"{scenario}-locust.log", "w", encoding="utf-8") as log:
        subprocess.run(  # noqa: S603
            [
                str(LOCUST),
                "-f",
                str(ROOT / "bench" / "locustfile.py"),
                "--headless",
                "--users",
                str(args.users),
                "--spawn-rate",
                str(args.users),
                "--run-time",
                f"{args.seconds}s",
                "--host",
                f"http://127.0.0.1:{args.port}",
                "--csv",
                str(prefix),
                "--only-summary",
                "--loglevel",
                "WARNING",
                user_class,
            ],
            cwd=ROOT,
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
    with open(f"{prefix}_stats.csv", encoding="utf-8") as stats_file:
        rows = {row["Name"]: row for row in csv.DictReader(stats_file)}
    row = rows.get(scenario) or rows["Aggregated"]
    failures = 0
    first_failure = ""
    failures_path = Path(f"{prefix}_failures.csv")
    if failures_path.exists():
        with open(failures_path, encoding="utf-8") as failures_file:
            listed = list(csv.DictReader(failures_file))
        failures = sum(int(f["Occurrences"]) for f in listed)
        first_failure = listed[0]["Error"] if listed else ""
    collected = json.loads(queries_out.read_text()) if queries_out.exists() else {}
    counts = collected.get("queries", {}).get(scenario, [])
    return Result(
        scenario=scenario,
        requests=int(row["Request Count"]),
        failures=max(failures, int(row["Failure Count"])),
        rps=_number(row["Requests/s"]),
        p50=_number(row["50%"]),
        p95=_number(row["95%"]),
        p99=_number(row["99%"]),
        queries=sum(counts) / len(counts) if counts else None,
        queries_spread=(min(counts), max(counts)) if counts else None,
        rss_mb=_peak_rss_mb(server_pids),
        ran_dry=scenario in collected.get("ran_dry", []),
        first_failure=first_failure,
    )


def _warm(args: argparse.Namespace, state: dict[str, Any]) -> None:
    """Every worker loads templates and opens its database connection first."""
    for name in ("floor", "queue", "case", "slots", "report"):
        user = state[name]["users"][0]
        for _ in range(args.workers * 3):
            for path in user["items"][:3]:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{args.port}{path}",
                    headers={"Cookie": f"sessionid={user['session']}"},
                )
                with urllib.request.urlopen(request, timeout=30):  # noqa: S310
                    pass


# --- Report --------------------------------------------------------------------------------


def _table(results: list[Result]) -> list[str]:
    floor = next((r.rps for r in results if r.scenario == "floor"), 0.0)
    signed_in = next((r.rps for r in results if r.scenario == "signed_in"), 0.0)
    lines = [
        "| Scenario | Requests | Failures | req/s | p50 ms | p95 ms | p99 ms "
        "| Queries/req | vs signed-in floor | vs floor | Worker peak RSS MB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        queries = "–"
        if r.queries is not None and r.queries_spread is not None:
            low, high = r.queries_spread
            queries = f"{r.queries:.1f}" + (f" ({low}–{high})" if low != high else "")
        ratio = f"{100 * r.rps / floor:.0f}%" if floor else "–"
        signed_ratio = f"{100 * r.rps / signed_in:.0f}%" if signed_in else "–"
        dry = " (pool ran dry)" if r.ran_dry else ""
        lines.append(
            f"| {SCENARIOS[r.scenario][1]}{dry} | {r.requests} | {r.failures} | {r.rps:.1f} "
            f"| {r.p50:.0f} | {r.p95:.0f} | {r.p99:.0f} | {queries} | {signed_ratio} | {ratio} "
            f"| {r.rss_mb:.0f} |"
        )
    return lines


def _plan_lines(plans: list[Plan]) -> list[str]:
    lines = [
        f"| Page | Queries | SELECTs explained | Sequential scans of tables over "
        f"{LARGE_TABLE_ROWS:,} rows | of smaller tables |",
        "|---|---:|---:|---|---|",
    ]
    for plan in plans:
        scans = sorted(set(plan.seq_scans))
        large = ", ".join(f"**{t}** ({rows:,})" for t, rows in scans if rows >= LARGE_TABLE_ROWS)
        small = ", ".join(f"{t} ({rows:,})" for t, rows in scans if rows < LARGE_TABLE_ROWS)
        lines.append(
            f"| {plan.page} | {plan.queries} | {plan.explained} | {large or 'none'} "
            f"| {small or 'none'} |"
        )
    return lines


def _machine() -> str:
    import platform

    cpu = "unknown CPU"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    memory = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            memory = int(line.split()[1]) // (1024 * 1024)
    return (
        f"{os.cpu_count()} cores ({cpu}), {memory} GiB RAM, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--scale", choices=["small", "large", "xlarge"], default="small")
    parser.add_argument("--seconds", type=int, default=20, help="per scenario")
    parser.add_argument("--users", type=int, default=8, help="concurrent locust users")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--reseed", action="store_true", help="drop and seed the database")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS), help="comma-separated")
    parser.add_argument(
        "--pool-per-second",
        type=int,
        default=150,
        help="submits and bookings prepared per second of run time",
    )
    parser.add_argument("--database-url", default="")
    parser.add_argument("--markdown", type=Path, help="also write the report here")
    args = parser.parse_args(argv)
    args.database_url = args.database_url or default_database_url(args.scale)
    if not LOCUST.exists():
        raise SystemExit(f"{LOCUST} is missing: run `make bench` (it installs locust)")
    env = _environment(args)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.db import connection

    from bench.seed import SCALES, seed, seeded_scale

    scale = SCALES[args.scale]
    made = _database(args.database_url, fresh=args.reseed)
    if made or seeded_scale() != scale.name:
        if not made:
            connection.close()
            _database(args.database_url, fresh=True)
        print(f"Seeding {args.database_url} at the {scale.name} scale")
        started = time.perf_counter()
        _manage("migrate", "--noinput", "-v", "0")
        seed(scale)
        print(f"Seeded in {time.perf_counter() - started:.0f} s (migrations included)")
    else:
        print(f"{args.database_url} already holds the {scale.name} scale (--reseed starts again)")
    _manage("collectstatic", "--noinput", "-v", "0")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    wanted = [s for s in args.scenarios.split(",") if s]
    state = _state(args)
    plans = _explain(state)
    timings = _in_process(state)
    connection.close()
    with tempfile.TemporaryDirectory(prefix="clinic-bench-") as tmp:
        work = Path(tmp)
        state_path = work / "state.json"
        state_path.write_text(json.dumps(state))
        server = _serve(args, {**os.environ, **env}, work / "gunicorn.log")
        results = []
        try:
            _warm(args, state)
            pids = _workers(server)
            for scenario in wanted:
                print(f"  {scenario}: {args.seconds} s with {args.users} users", flush=True)
                results.append(_load(args, scenario, state_path, work, pids))
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    report = [
        f"Scale: {scale.name} ({scale.cases:,} cases, {scale.open_cases:,} open, "
        f"{scale.physicians} physicians, {scale.patients:,} patients); "
        f"{args.users} users, {args.seconds} s per scenario, {args.workers} gunicorn workers; "
        f"database {size}",
        f"Machine: {_machine()}",
        "",
        *_table(results),
        "",
        *timings,
        "",
        "EXPLAIN of every SELECT on the pages:",
        "",
        *_plan_lines(plans),
    ]
    print("\n".join(report))
    if args.markdown:
        args.markdown.write_text("\n".join(report) + "\n")
    failed = [r for r in results if r.failures or not r.requests]
    for r in failed:
        print(f"FAILED: {r.scenario}: {r.failures} failures of {r.requests}; {r.first_failure}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
