from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from clinic.celery import app as celery_app
from clinic.roles import home_url_for, role_of
from treatments.models import TreatmentOption


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    options = TreatmentOption.objects.offered()
    return render(request, "clinic/home.html", {"options": options})


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
