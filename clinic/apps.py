from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from clinic import checks  # noqa: F401  (registers the checks)
        from clinic.middleware import session_start

        user_logged_in.connect(session_start, dispatch_uid="clinic_session_start")
