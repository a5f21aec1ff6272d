"""Who may open which page. Every view that is not public goes through here."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from clinic.models import User
from clinic.roles import Role, role_of


def signed_in_user(request: HttpRequest) -> User:
    """The request's user, for views already behind a login check."""
    if not isinstance(request.user, User):
        raise PermissionDenied("Please log in.")
    return request.user


def role_required(
    *roles: Role,
) -> Callable[[Callable[..., HttpResponseBase]], Callable[..., HttpResponseBase]]:
    """Visitors are sent to the login page; people with another role get a 403."""

    def decorator(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if role_of(request.user) not in roles:
                raise PermissionDenied("This page is not part of your role.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
