"""Sign-in security end to end in headless Chromium: a physician's first sign-in with
two-factor set-up, the warning before an idle session ends, a clinic admin searching
the audit log, and the Content-Security-Policy on every role's main pages.

The two-factor pages, the session warning and the audit log are checked with axe-core
and for sideways scrolling at 1280 and 375 px; every problem is collected and reported
at the end (see tests/browser/journey.py, also for screenshots with JOURNEY_SHOTS=1)."""

import re
import time
import uuid
from importlib import import_module
from typing import Any

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.base import SessionBase
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, expect

from clinic.middleware import LAST_SEEN
from clinic.models import AuditEvent
from tests.browser.journey import (
    DESKTOP,
    PHONE,
    authenticator_code,
    inspect,
    log_in,
    log_in_with_password,
    setup_code,
    submit_code,
)
from tests.factories import intake_ready_to_sign, submitted_case

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECOVERY_CODE = re.compile(r"^[0-9a-f]{4}-[0-9a-f]{4}$")


def report(problems: dict[str, list[str]]) -> str:
    return "\n".join(f"{page}: {found}" for page, found in problems.items())


# --- Two-factor sign-in --------------------------------------------------------------


def a_wrong_code(device: TOTPDevice) -> str:
    """Six digits that are none of the codes the device accepts around now."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    now = totp.t()
    accepted = set()
    for step in range(now - 2, now + 3):
        totp.drift = device.drift + step - now
        accepted.add(str(totp.token()).zfill(device.digits))
    return next(code for code in ("000000", "111111", "222222") if code not in accepted)


def wait_until_codes_are_accepted(device: TOTPDevice) -> None:
    """django-otp refuses every code for a while after a wrong one (1 s after the
    first, doubling with each further one); a person takes longer than that to type."""
    deadline = time.monotonic() + 10
    while not TOTPDevice.objects.get(pk=device.pk).verify_is_allowed()[0]:
        assert time.monotonic() < deadline, "the device stayed throttled"
        time.sleep(0.1)


def test_a_physicians_first_sign_in_sets_up_two_factor(
    new_context, live_server, physician, axe_violations
):
    problems: dict[str, list[str]] = {}
    base = live_server.url
    tab = new_context(viewport=DESKTOP).new_page()
    tab.set_default_timeout(10_000)

    # The password alone leads to the set-up page: a QR code and the same key typed out.
    log_in_with_password(tab, base, physician.email)
    expect(tab).to_have_url(re.compile(rf"^{re.escape(base)}/accounts/two-factor/setup/"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Set up two-factor sign-in")
    expect(tab.locator(".qr-code svg")).to_be_visible()
    device = TOTPDevice.objects.get(user=physician, confirmed=False)
    secret = tab.locator("#totp-secret")
    expect(secret).to_be_visible()
    expect(secret).to_have_text(re.compile(r"^[A-Z2-7]{4}( [A-Z2-7]{1,4})+$"))
    assert device.config_url.split("secret=")[1].split("&")[0] == secret.inner_text().replace(
        " ", ""
    )
    inspect(tab, "two-factor-setup", axe_violations, problems)

    # A wrong code: told so, on the same page, with nothing confirmed.
    submit_code(tab, "Confirm and continue", a_wrong_code(device))
    expect(tab).to_have_url(re.compile(rf"^{re.escape(base)}/accounts/two-factor/setup/"))
    expect(tab.get_by_text("That code did not match.")).to_be_visible()
    code = tab.get_by_label("Code")
    expect(code).to_have_attribute("aria-invalid", "true")
    expect(code).to_have_accessible_description(re.compile(r"That code did not match\."))
    expect(tab.locator("#totp-secret")).to_have_text(secret.inner_text())
    assert not TOTPDevice.objects.filter(user=physician, confirmed=True).exists()
    inspect(tab, "two-factor-setup-wrong-code", axe_violations, problems)

    # The right code: ten recovery codes, shown once.
    wait_until_codes_are_accepted(device)
    submit_code(tab, "Confirm and continue", setup_code(tab, physician.email))
    expect(tab).to_have_url(re.compile(rf"^{re.escape(base)}/accounts/two-factor/recovery/"))
    codes = tab.locator(".recovery-codes li")
    expect(codes).to_have_count(10)
    shown = codes.all_inner_texts()
    assert all(RECOVERY_CODE.match(code) for code in shown), shown
    assert len(set(shown)) == 10
    assert sorted(code.replace("-", "") for code in shown) == sorted(
        StaticToken.objects.filter(device__user=physician).values_list("token", flat=True)
    )
    assert TOTPDevice.objects.get(user=physician).confirmed
    inspect(tab, "two-factor-recovery", axe_violations, problems)

    # Continue: the review queue.
    tab.get_by_role("link", name="Continue").click()
    expect(tab).to_have_url(f"{base}/review/")
    expect(tab.get_by_role("heading", level=1)).to_have_text("Review queue")

    # The recovery codes are not shown again.
    tab.goto(f"{base}/accounts/two-factor/recovery/")
    expect(codes).to_have_count(0)
    expect(tab.get_by_text("You have 10 unused recovery codes.")).to_be_visible()

    # The next sign-in asks for the app's code only (a new one: this step's is used).
    tab.get_by_role("button", name="Log out").click()
    expect(tab).to_have_url(f"{base}/")
    log_in_with_password(tab, base, physician.email)
    expect(tab).to_have_url(re.compile(rf"^{re.escape(base)}/accounts/two-factor/\?"))
    expect(tab.get_by_role("heading", level=1)).to_have_text("Confirm it is you")
    inspect(tab, "two-factor-verify", axe_violations, problems)
    submit_code(tab, "Continue", authenticator_code(physician.email))
    expect(tab).to_have_url(f"{base}/review/")

    assert problems == {}, report(problems)


# --- The idle-session warning --------------------------------------------------------


def browser_session(tab: Page) -> SessionBase:
    """The server's session for the tab's session cookie."""
    cookie = next(
        cookie
        for cookie in tab.context.cookies()
        if cookie["name"] == django_settings.SESSION_COOKIE_NAME
    )
    store: SessionBase = import_module(django_settings.SESSION_ENGINE).SessionStore(
        session_key=cookie["value"]
    )
    return store


def test_the_session_warning_keeps_a_patient_signed_in_or_signs_them_out(
    new_context, live_server, settings, patient, axe_violations
):
    # A one-minute idle limit (the shortest there is), warned of 55 s before: the
    # warning shows about 5 s after the page opens.
    settings.SESSION_IDLE_MINUTES_PATIENT = 1
    settings.SESSION_WARNING_SECONDS = 55
    problems: dict[str, list[str]] = {}
    base = live_server.url
    tab = new_context(viewport=DESKTOP).new_page()
    tab.set_default_timeout(10_000)
    log_in(tab, base, patient.email)
    expect(tab).to_have_url(f"{base}/intake/")

    warning = tab.locator("#session-warning")
    countdown = warning.locator("[data-countdown]")
    expect(warning).to_be_hidden()
    expect(warning).to_be_visible(timeout=15_000)
    expect(warning).to_have_attribute("role", "alertdialog")
    expect(warning).to_contain_text("For privacy, you will be signed out in")
    expect(countdown).to_have_text(re.compile(r"^0:[0-5]\d$"))
    counted_from = countdown.inner_text()
    expect(countdown).not_to_have_text(counted_from)  # it counts down
    inspect(tab, "session-warning", axe_violations, problems)

    # "Stay signed in" restarts the idle clock and hides the warning.
    signed_in_for = browser_session(tab)[LAST_SEEN]
    tab.get_by_role("button", name="Stay signed in").click()
    expect(warning).to_be_hidden()
    session = browser_session(tab)
    assert session[LAST_SEEN] > signed_in_for
    expect(tab).to_have_url(f"{base}/intake/")

    # The patient walks away. Rather than wait a whole minute, the server's record of
    # their last request is moved 50 s back; the page does not know, and learns it
    # when it asks the server before warning again (about 5 s from now).
    session[LAST_SEEN] -= 50
    session.save()
    expect(warning).to_be_visible(timeout=15_000)
    expect(countdown).to_have_text(re.compile(r"^0:0\d$"))

    # Nobody answers: the session ends and the page goes to the login page.
    expect(tab).to_have_url(f"{base}/accounts/login/?next=/intake/", timeout=15_000)
    expect(tab.get_by_role("heading", level=1)).to_have_text("Log in")
    expect(tab.get_by_role("button", name="Log out")).to_have_count(0)
    tab.goto(f"{base}/intake/")
    expect(tab).to_have_url(f"{base}/accounts/login/?next=/intake/")

    assert problems == {}, report(problems)


# --- The audit log -------------------------------------------------------------------


def test_a_clinic_admin_searches_the_audit_log(
    new_context, live_server, clinic_admin, physician, patient, other_patient, axe_violations
):
    problems: dict[str, list[str]] = {}
    base = live_server.url
    for who, action in (
        (patient, AuditEvent.Action.VIEW),
        (other_patient, AuditEvent.Action.PRINT),
    ):
        AuditEvent.objects.create(
            actor=physician,
            actor_role="physician",
            patient=who,
            action=action,
            record_type="case",
            record_id=str(uuid.uuid4()),
            ip_address="203.0.113.9",
            request_id=uuid.uuid4().hex,
        )
    tab = new_context(viewport=DESKTOP).new_page()
    tab.set_default_timeout(10_000)
    log_in(tab, base, clinic_admin.email)
    tab.goto(f"{base}/frontdesk/")
    tab.get_by_role("link", name="Audit log").click()
    expect(tab).to_have_url(f"{base}/audit/")
    events = tab.get_by_role("table").get_by_role("row")
    expect(events).to_have_count(3)  # the header and two reads
    inspect(tab, "audit-log", axe_violations, problems)

    search = tab.get_by_role("form", name="Search the audit log")
    search.get_by_label("Patient (name or e-mail)").fill(other_patient.full_name)
    search.get_by_label("Action").select_option(label="Printed")
    search.get_by_role("button", name="Search").click()
    # The name typed is not in the address (nor the access log): only a token is.
    expect(tab).to_have_url(re.compile(r"/audit/\?search=[\w-]+$"))
    expect(events).to_have_count(2)
    expect(events.nth(1)).to_contain_text(other_patient.full_name)
    expect(events.nth(1)).to_contain_text("Printed")
    expect(events.nth(1)).to_contain_text(physician.full_name)
    inspect(tab, "audit-log-searched", axe_violations, problems, widths=(PHONE,))

    assert problems == {}, report(problems)


# --- Content-Security-Policy ---------------------------------------------------------


class PolicyWatch:
    """Collects, from every tab of a browser context, the browser's reports of a
    Content-Security-Policy violation (the ``securitypolicyviolation`` event, sent
    to the test through a binding that the page's policy does not govern), console
    errors and warnings, and uncaught script errors."""

    REPORT = """
      document.addEventListener("securitypolicyviolation", (event) => {
        window.__policyViolation(
          `${event.effectiveDirective} refused ${event.blockedURI || "inline code"}` +
          ` (${event.sourceFile || "page"}:${event.lineNumber})`
        );
      });
    """

    def __init__(self, context: BrowserContext) -> None:
        self.found: list[str] = []
        context.expose_binding("__policyViolation", self._violation)
        context.add_init_script(script=self.REPORT)
        context.on("page", self._watch)

    def _violation(self, source: dict[str, Any], text: str) -> None:
        self.found.append(f"{source['page'].url}: securitypolicyviolation: {text}")

    def _watch(self, tab: Page) -> None:
        tab.on("console", lambda message: self._console(tab, message))
        tab.on("pageerror", lambda error: self.found.append(f"{tab.url}: {error}"))

    def _console(self, tab: Page, message: ConsoleMessage) -> None:
        # The site has no favicon; the browser's own request for one is not a page's.
        if message.type not in {"error", "warning"} or message.location.get("url", "").endswith(
            "/favicon.ico"
        ):
            return
        self.found.append(f"{tab.url}: console {message.type}: {message.text}")


def script_sources(header: str) -> list[str]:
    for directive in header.split(";"):
        name, *values = directive.split()
        if name == "script-src":
            return values
    return []


def visit(tab: Page, url: str, headers: dict[str, str]) -> None:
    """Opens the page, waits for its scripts, and keeps its policy header."""
    response = tab.goto(url)
    assert response is not None
    assert response.status == 200, url
    tab.wait_for_load_state("networkidle")
    headers[url] = response.headers.get("content-security-policy", "")


def test_no_page_breaks_the_content_security_policy(
    new_context, live_server, patient, other_patient, physician, front_desk, clinic_admin
):
    base = live_server.url
    draft = intake_ready_to_sign(patient)
    case = submitted_case(other_patient)  # routed to the physician who takes knees
    assert case.assigned_to_id == physician.pk
    pages = {
        patient.email: [
            f"{base}/intake/",
            f"{base}/intake/{draft.public_id}/step/1/",
            f"{base}/intake/{draft.public_id}/step/3/",
        ],
        physician.email: [
            f"{base}/review/",
            f"{base}/review/cases/{case.public_id}/",
            f"{base}/review/cases/{case.public_id}/print/",
        ],
        front_desk.email: [f"{base}/frontdesk/"],
        clinic_admin.email: [f"{base}/audit/", f"{base}/admin/"],
    }
    headers: dict[str, str] = {}
    watches: list[PolicyWatch] = []
    for email, urls in pages.items():
        context = new_context(viewport=DESKTOP)
        watches.append(PolicyWatch(context))
        tab = context.new_page()
        tab.set_default_timeout(10_000)
        log_in(tab, base, email)
        for url in urls:
            visit(tab, url, headers)
            if not url.startswith(f"{base}/admin/"):
                # Our scripts ran: clinic.js hid the asterisks from screen readers,
                # and Bootstrap's (its tag carries the nonce) is there.
                assert tab.evaluate("typeof window.bootstrap") == "object", url
                assert tab.locator(".asteriskField:not([aria-hidden=true])").count() == 0, url
            if url == f"{base}/audit/":  # the physician's reads are in the log
                expect(tab.get_by_role("table")).to_contain_text(other_patient.full_name)
        if email == physician.email:
            # A fresh nonce with every response.
            nonces = {re.findall(r"'nonce-[^']+'", headers[url])[0] for url in urls}
            assert len(nonces) == len(urls)

    found = [problem for watch in watches for problem in watch.found]
    assert found == [], "\n".join(found)
    for url, header in headers.items():
        sources = script_sources(header)
        assert "'self'" in sources, (url, header)
        # django-csp names a nonce only in responses whose page used one: ours all
        # do (the Bootstrap and clinic.js tags); Django's admin site has no script of
        # its own to allow.
        if not url.startswith(f"{base}/admin/"):
            assert any(source.startswith("'nonce-") for source in sources), (url, header)
        assert "'unsafe-inline'" not in sources, (url, header)
        assert "'unsafe-eval'" not in sources, (url, header)

    # The watch does see a violation: a script added inline is refused and reported.
    tab.evaluate(
        """() => {
          const script = document.createElement("script");
          script.textContent = "window.inlineRan = true";
          document.body.append(script);
        }"""
    )
    deadline = time.monotonic() + 5
    while not any("securitypolicyviolation" in problem for problem in watches[-1].found):
        assert time.monotonic() < deadline, watches[-1].found
        tab.wait_for_timeout(50)  # lets Playwright deliver the binding's call
    assert tab.evaluate("window.inlineRan") is None
    assert "script-src" in watches[-1].found[0], watches[-1].found
