from django.apps import AppConfig


class ClinicConfig(AppConfig):
    name = "clinic"
    verbose_name = "Clinic"

    def ready(self) -> None:
        from django.conf import settings
        from django.contrib.auth.signals import user_logged_in

        from clinic import checks  # noqa: F401  (registers the checks)
        from clinic.env import import_class
        from clinic.middleware import session_start

        user_logged_in.connect(session_start, dispatch_uid="clinic_session_start")
        # Every process (web, worker, beat, manage.py) starts here once the apps are
        # loaded: a backend that does not import stops it with the variable's name,
        # instead of failing at the first e-mail or text message.
        import_class("EMAIL_BACKEND", settings.EMAIL_BACKEND)
        import_class("SMS_BACKEND", settings.SMS_BACKEND)
