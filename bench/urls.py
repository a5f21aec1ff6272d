"""The app's URLs plus the floor: the fastest any page of ours could be."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_safe

from clinic.policy import review_area


@require_safe
def floor(request: HttpRequest) -> HttpResponse:
    """Behind the whole middleware stack, touches no table, renders no template."""
    return HttpResponse("floor\n", content_type="text/plain")


@require_safe
@review_area
def signed_in_floor(request: HttpRequest) -> HttpResponse:
    """The same, for a signed-in physician: what every signed-in page pays before
    it does any work of its own (session, user, second factor, role, idle limit)."""
    return HttpResponse("signed in\n", content_type="text/plain")


urlpatterns = [
    path("bench/floor", floor, name="bench_floor"),
    path("bench/floor/signed-in", signed_in_floor, name="bench_signed_in_floor"),
    path("", include("clinic.urls")),
]
