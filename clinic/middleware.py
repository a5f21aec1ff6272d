"""Project middleware."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class NoStoreForSignedInMiddleware:
    """Pages shown to a signed-in person may carry health information: no browser or
    proxy may keep a copy (``Cache-Control: no-store``), so the back button on a
    shared computer after logging out shows nothing. A view that set its own
    Cache-Control (e.g. the imaging download) keeps it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True, max_age=0)
        return response
