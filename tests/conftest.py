"""Shared fixtures: the personas, the browser, and the rule that in CI (CI=true) a
missing Redis or Chromium fails the run instead of skipping. The database is always
PostgreSQL (the settings refuse anything else): DATABASE_URL's, or without it the
throwaway embedded cluster that `make test` starts."""

import importlib
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.db import connection
from django.http import HttpRequest
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from clinic.celery import app as celery_app
from clinic.models import User
from clinic.roles import Role
from clinic.two_factor import second_factor_required
from tests.factories import PASSWORD, PhysicianFactory, UserFactory

# Playwright runs an event loop in the test thread; the ORM calls in tests are still
# synchronous and safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


def _compile_translations() -> None:
    """The build compiles locale/*.po to .mo (Makefile, Dockerfile); a bare ``pytest``
    compiles a missing or stale one too, with the same pure-Python tool (Babel)."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in (Path(__file__).resolve().parents[1] / "locale").glob("*/LC_MESSAGES/django.po"):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as source:
            catalog = read_po(source)
        with mo.open("wb") as target:
            write_mo(target, catalog)


_compile_translations()

IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/bin/chromium")
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require(available: bool, reason: str) -> None:
    """Skip when a real service is missing on a developer's machine; fail in CI."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason}; CI=true requires it.", pytrace=False)
    pytest.skip(reason)


def database_url(name: str | None = None) -> str:
    """A libpq URL of the test server (the machine's, or the embedded cluster over
    its Unix socket), for a process of its own; ``name`` picks another database."""
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    name = name or db["NAME"]
    socket_dir = db.get("OPTIONS", {}).get("host")
    if socket_dir and not db["HOST"]:
        return f"postgres://{db['USER']}{password}@/{name}?host={socket_dir}"
    return (
        f"postgres://{db['USER']}{password}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"
    )


def redis_answers(url: str = REDIS_TEST_URL) -> bool:
    host_port = url.split("//", 1)[1].split("/", 1)[0]
    host, _, port = host_port.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port or 6379)), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def chromium_path() -> str | None:
    return next((path for path in CHROMIUM_PATHS if Path(path).exists()), None)


def _runs_in_transactions(item: pytest.Item) -> bool:
    marker = item.get_closest_marker("django_db")
    fixtures = getattr(item, "fixturenames", ())
    return bool(
        (marker is not None and marker.kwargs.get("transaction"))
        or "transactional_db" in fixtures
        or "live_server" in fixtures
    )


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests that commit (live server, real worker) empty the tables when they end;
    # run them after the others, whatever order the browser parametrisation chose.
    items.sort(key=_runs_in_transactions)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if IN_CI and skipped and reporter is not None:
        reporter.write_line(f"CI=true: {len(skipped)} test(s) skipped; CI allows none.", red=True)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


# Rows that data migrations create (the catalog, the role groups). Tests that
# commit end with a flush of every table, so those rows are put back before each.
DATA_MIGRATIONS = [
    ("treatments.migrations.0002_seed_catalog", "seed"),
    ("clinic.migrations.0002_roles", "create_roles"),
    ("intake.migrations.0002_seed_instruments_and_consent", "seed"),
    ("treatments.migrations.0004_seed_red_flags", "seed"),
    ("intake.migrations.0005_no_double_booking_and_types", "seed"),
    ("treatments.migrations.0006_clinical_safety_review", "review"),
    ("treatments.migrations.0007_saddle_question_for_every_patient", "reword"),
    ("intake.migrations.0009_consent_2026_12", "publish"),
    ("intake.migrations.0010_pain_asked_once_and_us_wording", "forwards"),
    ("intake.migrations.0012_instruments_in_spanish", "translate"),
    ("intake.migrations.0013_consent_language", "publish_spanish"),
    ("treatments.migrations.0008_rules_in_spanish", "translate"),
    ("treatments.migrations.0009_names_in_spanish", "translate"),
    ("care.migrations.0002_seed_billable_items_and_disclaimers", "seed"),
    ("care.migrations.0010_estimates_in_spanish", "seed_spanish"),
    ("care.migrations.0004_seed_instruction_templates", "seed"),
    ("care.migrations.0007_seed_followup_timepoints", "seed"),
]


@pytest.fixture(autouse=True)
def _migration_data_in_committing_tests(request: pytest.FixtureRequest) -> None:
    if not _runs_in_transactions(request.node):
        return
    request.getfixturevalue("transactional_db")
    for module_name, function_name in DATA_MIGRATIONS:
        getattr(importlib.import_module(module_name), function_name)(django_apps, None)


@pytest.fixture(autouse=True)
def _english_until_a_test_says_otherwise() -> Iterator[None]:
    # A request activates its page's language in the test's thread (as in a worker
    # thread, where the next request activates its own); each test starts in English.
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def _private_media_in_a_temporary_folder(settings: Any, tmp_path: Path) -> None:
    # Uploaded imaging written by a test never lands in the working tree.
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private-media"


@pytest.fixture(autouse=True)
def _no_activity_writes(settings: Any) -> None:
    # The session records activity at most every 30 s in production; a slow test
    # would otherwise see an extra session write and a varying query count. The
    # session tests set it back.
    settings.SESSION_ACTIVITY_SECONDS = 24 * 60 * 60


@pytest.fixture(autouse=True)
def _fast_password_hashing(request: pytest.FixtureRequest, settings: Any) -> None:
    # Argon2 is deliberately slow; tests that are not about hashing use MD5. Those
    # marked ``production_hashing`` keep the hashers of clinic/settings.py.
    if request.node.get_closest_marker("production_hashing"):
        return
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _celery_in_process() -> Iterator[None]:
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = True


# The personas: every permission test speaks of these people.
@pytest.fixture
def patient(db: None) -> User:
    return UserFactory.create(role=Role.PATIENT, full_name="Pat Patient")


@pytest.fixture
def other_patient(db: None) -> User:
    return UserFactory.create(role=Role.PATIENT, full_name="Olive Other")


@pytest.fixture
def physician(db: None) -> User:
    return PhysicianFactory.create(regions=["knee", "hip"]).user


@pytest.fixture
def other_physician(db: None) -> User:
    return PhysicianFactory.create(regions=["spine"]).user


@pytest.fixture
def front_desk(db: None) -> User:
    return UserFactory.create(role=Role.FRONT_DESK, full_name="Fran Desk")


@pytest.fixture
def clinic_admin(db: None) -> User:
    return UserFactory.create(role=Role.CLINIC_ADMIN, full_name="Ada Admin", is_staff=True)


class ClinicClient(Client):
    """The test client, where ``force_login`` signs a person in completely: staff
    have also given their second factor (an authenticator app made for them). Tests
    of the second factor itself use ``password_only_login``."""

    def force_login(self, user: Any, backend: str | None = None) -> None:
        super().force_login(user, backend)
        if second_factor_required(user):
            device = second_factor_device(user)
            session = self.session
            session[DEVICE_ID_SESSION_KEY] = device.persistent_id
            session.save()

    def password_only_login(self, user: Any) -> None:
        super().force_login(user)

    def login(self, **credentials: Any) -> bool:
        # django-axes checks every login attempt against its request's address.
        credentials.setdefault("request", HttpRequest())
        return super().login(**credentials)


def second_factor_device(user: User) -> TOTPDevice:
    """The person's confirmed authenticator (made for them if they have none)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    return device or TOTPDevice.objects.create(user=user, name="Test phone", confirmed=True)


def current_code(device: TOTPDevice) -> str:
    """The code the person's authenticator app shows now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


@pytest.fixture
def client() -> ClinicClient:
    return ClinicClient()


@pytest.fixture
def login(client: Client) -> Any:
    def _login(user: User) -> Client:
        client.force_login(user)
        return client

    return _login


AXE_SCRIPT = Path(__file__).resolve().parents[1] / "node_modules" / "axe-core" / "axe.min.js"


@pytest.fixture
def axe_violations() -> Any:
    """Runs axe-core in a page; returns its serious and critical violations.

    The pages forbid inline scripts (Content-Security-Policy with nonces), so axe is
    not added as a ``<script>`` element (``page.add_script_tag`` inlines the file and
    the browser refuses it): its source is evaluated through the DevTools protocol,
    which the page's policy does not govern and which reports no violation."""
    require(AXE_SCRIPT.exists(), "axe-core is not installed (npm ci)")
    source = AXE_SCRIPT.read_text(encoding="utf-8")

    def check(page: Any) -> list[str]:
        if not page.evaluate("typeof window.axe === 'object'"):
            page.evaluate(source)
        result = page.evaluate("async () => await axe.run()")
        return [
            f"{violation['impact']} {violation['id']}: "
            + ", ".join(str(node["target"]) for node in violation["nodes"])
            for violation in result["violations"]
            if violation["impact"] in {"serious", "critical"}
        ]

    return check


# The browser: Debian's Chromium, never a downloaded one.
@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    executable = chromium_path()
    require(executable is not None, "Chromium is not installed (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            "--disable-sync",
        ],
    }


__all__ = [
    "PASSWORD",
    "REDIS_TEST_URL",
    "ClinicClient",
    "current_code",
    "database_url",
    "redis_answers",
    "require",
    "second_factor_device",
]
