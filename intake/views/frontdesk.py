from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from clinic.access import role_required
from clinic.roles import Role
from intake.models import Case


@require_safe
@role_required(Role.FRONT_DESK)
def home(request: HttpRequest) -> HttpResponse:
    """'To schedule': cases a physician wants to see, oldest first. The front desk
    sees contact details and what to book, not the clinical record."""
    return render(request, "frontdesk/home.html", {"to_schedule": Case.objects.to_schedule()})
