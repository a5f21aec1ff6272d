from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from clinic.access import role_required
from clinic.roles import Role


@require_safe
@role_required(Role.PHYSICIAN)
def queue(request: HttpRequest) -> HttpResponse:
    return render(request, "review/queue.html")
