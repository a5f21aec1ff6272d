import secrets
from urllib.parse import urlencode

import django_otp
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic import two_factor
from clinic.access import signed_in_user
from clinic.celery import app as celery_app
from clinic.errors import ClinicError
from clinic.forms import AuditFilter, LanguageForm, OneTimeCodeForm
from clinic.middleware import session_seconds_left, session_touch
from clinic.models import AuditEvent, User
from clinic.policy import audit_area
from clinic.roles import Role, home_url_for, role_of
from clinic.services import (
    email_verification_address,
    email_verification_send,
    email_verify,
    user_language_set,
)
from treatments.models import TreatmentOption


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    """The language switch of every patient page (templates/base.html): the choice
    goes into the language cookie and, for a signed-in patient, onto the account, so
    e-mails and reminders follow it. Staff pages are English; they have no switch."""
    user = request.user
    if isinstance(user, User) and role_of(user) != Role.PATIENT:
        raise PermissionDenied
    next_url = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = reverse("home")
    response = redirect(next_url)
    form = LanguageForm(request.POST)
    if form.is_valid():
        language = form.cleaned_data["language"]
        if isinstance(user, User):
            user_language_set(user=user, language=language)
        translation.activate(language)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            path=settings.LANGUAGE_COOKIE_PATH,
            domain=settings.LANGUAGE_COOKIE_DOMAIN,
            secure=settings.LANGUAGE_COOKIE_SECURE,
            httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
            samesite="Lax",
        )
    return response


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    options = TreatmentOption.objects.offered()
    return render(request, "clinic/home.html", {"options": options})


@require_http_methods(["GET", "HEAD", "POST"])
def verify_email(request: HttpRequest, uidb64: str, token: str) -> HttpResponse:
    """The e-mailed link shows a button; only the POST confirms, so that link
    scanners that open every URL in an e-mail do not use it up."""
    if request.method == "POST":
        try:
            email_verify(uidb64=uidb64, token=token)
        except ClinicError as error:
            return render(request, "registration/verify_email.html", {"error": str(error)})
        messages.success(request, "Thank you: your e-mail address is confirmed.")
        return redirect("role_home" if request.user.is_authenticated else "login")
    address = email_verification_address(uidb64=uidb64, token=token)
    if address is None:
        return render(
            request,
            "registration/verify_email.html",
            {"error": "This confirmation link no longer works."},
        )
    return render(request, "registration/verify_email.html", {"address": address})


@require_POST
@login_required
def verify_email_resend(request: HttpRequest) -> HttpResponse:
    user = signed_in_user(request)
    if user.email_verified_at is None:
        email_verification_send(user=user)
        messages.info(request, f"We sent a new confirmation link to {user.email}.")
    return redirect("role_home")


@require_safe
@login_required
def role_home(request: HttpRequest) -> HttpResponse:
    """Where the login form sends everyone: on to their role's own page."""
    if role_of(request.user) is None:
        raise PermissionDenied("Your account has no role yet. Please ask the clinic.")
    return redirect(home_url_for(request.user))


def _database_state() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception:
        return "unreachable"
    return "ok"


def _broker_state() -> str:
    if celery_app.conf.task_always_eager:
        return "in-process"
    try:
        with celery_app.connection_for_write() as broker:
            broker.ensure_connection(max_retries=1, interval_start=0, timeout=2)
    except Exception:
        return "unreachable"
    return "ok"


@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico whatever a page links (the admin's pages link
    none): it is our icon among the static files."""
    response = redirect(static("img/favicon.ico"))
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_safe
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose health checks; says nothing about patients."""
    state = {"database": _database_state(), "broker": _broker_state()}
    healthy = state["database"] == "ok" and state["broker"] in {"ok", "in-process"}
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **state}, status=200 if healthy else 503
    )


def _next_url(request: HttpRequest) -> str:
    """Where to go once the code is confirmed: the page asked for, if it is ours."""
    wanted = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        wanted, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return wanted
    return home_url_for(request.user)


RECOVERY_CODES_SESSION_KEY = "clinic_new_recovery_codes"


def _code_refused(wait: int, wrong: str) -> str:
    if wait:
        return f"Too many wrong codes: please wait {wait} second{pluralize(wait)}, then try again."
    return wrong


def _staff_member(request: HttpRequest) -> User:
    """Two-factor sign-in is for staff; patients sign in with their password."""
    user = signed_in_user(request)
    if not two_factor.second_factor_required(user):
        raise PermissionDenied("Two-factor sign-in is for clinic staff.")
    return user


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """First sign-in of a staff member: scan the QR code into an authenticator app,
    type its code, and receive recovery codes."""
    user = _staff_member(request)
    if two_factor.has_authenticator(user):
        return redirect("two_factor_verify")
    device = two_factor.authenticator_pending(user)
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = two_factor.wait_seconds(user, form.cleaned_data["code"], setting_up=True)
        codes = (
            None
            if wait
            else two_factor.authenticator_confirm(user=user, token=form.cleaned_data["code"])
        )
        if codes is not None:
            django_otp.login(request, device)
            request.session[RECOVERY_CODES_SESSION_KEY] = codes
            query = urlencode({"next": _next_url(request)})
            return redirect(f"{reverse('two_factor_recovery')}?{query}")
        wrong = "That code did not match. Check the phone's clock and try the new code."
        form.add_error("code", _code_refused(wait, wrong))
    return render(
        request,
        "registration/two_factor_setup.html",
        {
            "form": form,
            "qr_svg": two_factor.authenticator_qr_svg(device),
            "secret": two_factor.authenticator_secret(device),
            "next": _next_url(request),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    user = _staff_member(request)
    if not two_factor.has_authenticator(user):
        return redirect("two_factor_setup")
    form = OneTimeCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        wait = two_factor.wait_seconds(user, form.cleaned_data["code"])
        device = (
            None
            if wait
            else two_factor.second_factor_verify(user=user, token=form.cleaned_data["code"])
        )
        if device is not None:
            django_otp.login(request, device)
            if device.name == two_factor.RECOVERY_DEVICE_NAME:
                left = two_factor.recovery_codes_left(user)
                messages.warning(
                    request,
                    f"You used a recovery code; {left} left. Make new ones under "
                    "“Two-factor sign-in” if you are running low.",
                )
            return redirect(_next_url(request))
        wrong = "That code did not work. Codes change every 30 seconds and work once."
        form.add_error("code", _code_refused(wait, wrong))
    return render(
        request, "registration/two_factor_verify.html", {"form": form, "next": _next_url(request)}
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def two_factor_recovery(request: HttpRequest) -> HttpResponse:
    """Shows new recovery codes once (after setup), and makes a new set on request."""
    user = _staff_member(request)
    if request.method == "POST":
        request.session[RECOVERY_CODES_SESSION_KEY] = two_factor.recovery_codes_renew(user=user)
        return redirect("two_factor_recovery")
    codes = request.session.pop(RECOVERY_CODES_SESSION_KEY, None)
    return render(
        request,
        "registration/two_factor_recovery.html",
        {
            "codes": codes,
            "left": two_factor.recovery_codes_left(user),
            "next": _next_url(request),
        },
    )


@require_http_methods(["GET", "HEAD", "POST"])
def session(request: HttpRequest) -> JsonResponse:
    """For the sign-out warning: GET says how many seconds the session has left (and
    does not count as activity); POST ("Stay signed in") restarts the idle clock."""
    if not request.user.is_authenticated:
        return JsonResponse({"signed_in": False, "seconds_left": 0})
    if request.method == "POST":
        session_touch(request)
    return JsonResponse({"signed_in": True, "seconds_left": session_seconds_left(request)})


# Audit searches kept in the session, by an opaque token; the newest few only.
AUDIT_SEARCHES = "audit_searches"
AUDIT_SEARCHES_KEPT = 20


def _audit_search_keep(request: HttpRequest, terms: dict[str, str]) -> str:
    token = secrets.token_urlsafe(12)
    searches = dict(request.session.get(AUDIT_SEARCHES, {}))
    searches[token] = terms
    request.session[AUDIT_SEARCHES] = dict(list(searches.items())[-AUDIT_SEARCHES_KEPT:])
    return token


@require_http_methods(["GET", "HEAD", "POST"])
@audit_area
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who saw which patient's records: searchable by patient, person and date.

    The search form is posted and kept in the session; the page's address carries
    only an opaque token for it (``?search=``), so the names typed never reach a URL,
    the browser's history or the web server's access log."""
    events = AuditEvent.objects.select_related("actor", "patient")
    expired = False
    query = ""
    if request.method == "POST":
        filterset = AuditFilter(request.POST, queryset=events)
        if filterset.is_valid():
            posted = {name: str(request.POST.get(name, "")) for name in filterset.form.fields}
            token = _audit_search_keep(request, posted)
            return redirect(f"{reverse('audit_log')}?{urlencode({'search': token})}")
    else:
        token = request.GET.get("search", "")
        terms: dict[str, str] | None = (
            request.session.get(AUDIT_SEARCHES, {}).get(token) if token else None
        )
        expired = bool(token) and terms is None
        filterset = AuditFilter(terms, queryset=events)
        if terms is not None:
            query = urlencode({"search": token})
    page = Paginator(filterset.qs, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "clinic/audit_log.html",
        {"filter": filterset, "page": page, "query": query, "expired": expired},
    )
