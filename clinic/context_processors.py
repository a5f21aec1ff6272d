from django.conf import settings
from django.http import HttpRequest

from clinic.middleware import session_seconds_left
from clinic.models import User
from clinic.roles import role_of
from clinic.two_factor import second_factor_required


def clinic(request: HttpRequest) -> dict[str, object]:
    user = request.user
    signed_in = isinstance(user, User)
    two_factor = isinstance(user, User) and second_factor_required(user)
    # Staff who have not given their second factor yet see no menu: it would only
    # lead back to the code page. (django-otp's middleware adds is_verified.)
    fully_signed_in = signed_in and (not two_factor or bool(user.is_verified()))  # type: ignore[union-attr]
    return {
        "CLINIC_NAME": settings.CLINIC_NAME,
        "CLINIC_PHONE": settings.CLINIC_PHONE,
        "LOGIN_LOCKOUT_MINUTES": settings.LOGIN_LOCKOUT_MINUTES,
        "user_role": role_of(user) if fully_signed_in else None,
        "uses_two_factor": two_factor and fully_signed_in,
        # For the page's sign-out warning (static/js/clinic.js).
        "session_seconds_left": session_seconds_left(request) if signed_in else None,
        "session_warning_seconds": settings.SESSION_WARNING_SECONDS,
    }
