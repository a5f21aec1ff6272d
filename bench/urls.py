"""The app's URLs plus the floor: the fastest any page of ours could be."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path
from django.views.decorators.http import require_safe


@require_safe
def floor(request: HttpRequest) -> HttpResponse:
    """Behind the whole middleware stack, touches no table, renders no template."""
    return HttpResponse("floor\n", content_type="text/plain")


urlpatterns = [
    path("bench/floor", floor, name="bench_floor"),
    path("", include("clinic.urls")),
]
