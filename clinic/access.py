"""Who may open which page. Every view that is not public goes through here."""

import ipaddress
from collections.abc import Callable
from functools import wraps

from django.conf import settings
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


def client_ip(request: HttpRequest) -> str | None:
    """The address a request came from, as recorded with a signature.

    Behind a proxy, set ``CLIENT_IP_HEADER`` (e.g. ``HTTP_X_FORWARDED_FOR``): the
    right-most address in it is the one our own proxy saw, which a client cannot
    forge. Anything that is not an IP address is ignored."""
    candidates = []
    if settings.CLIENT_IP_HEADER:
        forwarded = str(request.META.get(settings.CLIENT_IP_HEADER, ""))
        candidates.append(forwarded.split(",")[-1].strip())
    candidates.append(str(request.META.get("REMOTE_ADDR", "")))
    for candidate in candidates:
        try:
            return str(ipaddress.ip_address(candidate))
        except ValueError:
            continue
    return None
