from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.access import signed_in_user
from clinic.celery import app as celery_app
from clinic.errors import ClinicError
from clinic.roles import home_url_for, role_of
from clinic.services import email_verification_send, email_verify
from treatments.models import TreatmentOption


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
    return render(request, "registration/verify_email.html")


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
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """For load balancers and compose health checks; says nothing about patients."""
    state = {"database": _database_state(), "broker": _broker_state()}
    healthy = state["database"] == "ok" and state["broker"] in {"ok", "in-process"}
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", **state}, status=200 if healthy else 503
    )
