"""Project middleware: request ids, the page's language, session limits, the
second-factor gate, no caching of signed-in pages, and the change-history context."""

import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

import pghistory.middleware
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.cache import patch_cache_control

from clinic.models import User
from clinic.request_id import current_request_id
from clinic.roles import Role, role_of
from clinic.two_factor import has_authenticator, second_factor_required

GetResponse = Callable[[HttpRequest], HttpResponse]


class RequestIdMiddleware:
    """Gives every request an id of our own (never one the client sent), kept on
    ``request.request_id``, in log lines, in audit rows and in the change history,
    and returned in the ``X-Request-ID`` header so a support question can be traced."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response["X-Request-ID"] = request_id
        return response


# Session keys: when the person signed in, and when they last did something.
SIGNED_IN_AT = "clinic_signed_in_at"
LAST_SEEN = "clinic_last_seen"


def idle_limit_seconds(user: User) -> int:
    minutes = (
        settings.SESSION_IDLE_MINUTES_PATIENT
        if role_of(user) == Role.PATIENT and not user.is_staff
        else settings.SESSION_IDLE_MINUTES_STAFF
    )
    return int(minutes) * 60


def session_seconds_left(request: HttpRequest) -> int:
    """How long this session has before it ends, whichever limit comes first."""
    now = time.time()
    user = request.user
    if not isinstance(user, User):
        return 0
    last_seen = float(request.session.get(LAST_SEEN, now))
    signed_in_at = float(request.session.get(SIGNED_IN_AT, now))
    idle_left = idle_limit_seconds(user) - (now - last_seen)
    absolute_left = settings.SESSION_MAX_HOURS * 3600 - (now - signed_in_at)
    return max(0, int(min(idle_left, absolute_left)))


def session_touch(request: HttpRequest) -> None:
    request.session[LAST_SEEN] = time.time()


def session_start(sender: object, request: HttpRequest, user: User, **kwargs: object) -> None:
    """At login (``user_logged_in``): the session's clocks start now."""
    request.session[SIGNED_IN_AT] = request.session[LAST_SEEN] = time.time()


class SessionLimitsMiddleware:
    """Signs a person out after a spell without requests (staff 15 minutes, patients
    30) and after 12 hours in any case; the next request goes to the login page with
    a message, and comes back where it was after logging in. The session-status
    check the page's warning makes does not count as activity."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if isinstance(user, User):
            session = request.session
            now = time.time()
            session.setdefault(SIGNED_IN_AT, now)
            is_status_check = request.method == "GET" and request.path == reverse("session")
            if session_seconds_left(request) <= 0:
                idle = now - float(session.get(LAST_SEEN, now)) >= idle_limit_seconds(user)
                logout(request)
                if is_status_check:  # the page's warning learns it and goes to login
                    return self.get_response(request)
                messages.info(
                    request,
                    "You were signed out after a while without activity, to keep patients' "
                    "information private. Please log in again."
                    if idle
                    else "Your session reached its time limit. Please log in again.",
                )
                return redirect_to_login(
                    request.get_full_path() if request.method == "GET" else reverse("role_home")
                )
            last_seen = float(session.get(LAST_SEEN, 0))
            # Requests closer together than this do not rewrite the session (an
            # UPDATE saved per request); the idle limit is exact to within it.
            if not is_status_check and now - last_seen >= settings.SESSION_ACTIVITY_SECONDS:
                session[LAST_SEEN] = now
        return self.get_response(request)


# What a staff member who has not yet given their second factor may open.
SECOND_FACTOR_OPEN_URLS = frozenset(
    {
        "two_factor_setup",
        "two_factor_verify",
        "logout",
        "admin:logout",
        "session",
        "home",
        "healthz",
        "favicon",
    }
)


class UserLanguageMiddleware:
    """The page's language once the user is known. Django's LocaleMiddleware has
    already chosen one from the language cookie or the browser's Accept-Language (a
    visitor's first page); a signed-in patient's stored choice wins over both, and
    staff (physicians, front desk, clinic admins) always get English: their pages
    and the clinical record they write are not translated."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        language = request_language(request)
        if language is not None:
            translation.activate(language)
            request.LANGUAGE_CODE = language
        return self.get_response(request)


def request_language(request: HttpRequest) -> str | None:
    """The language the signed-in person's pages are in, or None to keep the one
    LocaleMiddleware chose (a visitor, or a patient who never chose)."""
    user = getattr(request, "user", None)
    if not isinstance(user, User):
        return None
    if role_of(user) != Role.PATIENT:
        return settings.LANGUAGE_CODE
    return user.language or None


class SecondFactorRequiredMiddleware:
    """Staff who signed in with their password only are sent to confirm a code (or
    to set up their authenticator, the first time) before any other page opens,
    the admin site included."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            isinstance(user, User)
            and not user.is_verified()  # type: ignore[attr-defined]
            and second_factor_required(user)
        ):
            try:
                view_name = resolve(request.path_info).view_name
            except Resolver404:
                view_name = ""
            if view_name not in SECOND_FACTOR_OPEN_URLS:
                target = "two_factor_verify" if has_authenticator(user) else "two_factor_setup"
                next_url = request.get_full_path() if request.method == "GET" else ""
                query = f"?{urlencode({'next': next_url})}" if next_url else ""
                return HttpResponseRedirect(reverse(target) + query)
        return self.get_response(request)


class NoStoreForSignedInMiddleware:
    """Pages shown to a signed-in person may carry health information: no browser or
    proxy may keep a copy (``Cache-Control: no-store``), so the back button on a
    shared computer after logging out shows nothing. A view that set its own
    Cache-Control (e.g. the imaging download) keeps it."""

    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True, max_age=0)
        return response


class HistoryMiddleware(pghistory.middleware.HistoryMiddleware):
    """django-pghistory's context (who, which URL) plus our request id, so a change
    in the history can be matched with the reads in the audit log."""

    def get_context(self, request: HttpRequest) -> dict[str, Any]:
        context: dict[str, Any] = super().get_context(request)
        context["request_id"] = getattr(request, "request_id", "")
        return context
