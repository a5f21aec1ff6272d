from django.conf import settings
from django.http import HttpRequest

from clinic.roles import role_of


def clinic(request: HttpRequest) -> dict[str, object]:
    return {"CLINIC_NAME": settings.CLINIC_NAME, "user_role": role_of(request.user)}
