"""Settings are checked in a fresh process, the way a server would start."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "production-secret-for-the-deploy-check-only-0123456789",
    "ALLOWED_HOSTS": "intake.clinic.example",
    "DATABASE_URL": "postgres://clinic@127.0.0.1:5432/clinic",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    "EMAIL_HOST": "smtp.clinic.example",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECRET_KEY",
            "DATABASE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            "EMAIL_HOST",
            "EMAIL_BACKEND",
        }
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_deploy_check_is_clean_with_production_values():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {**PRODUCTION, "SECRET_KEY": ""}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "Set the environment variable SECRET_KEY" in result.stderr


def test_a_bad_value_fails_loudly_with_its_name():
    result = manage("check", CONN_MAX_AGE="forever")
    assert result.returncode != 0
    assert "CONN_MAX_AGE must be a whole number" in result.stderr


def test_unknown_time_zone_is_refused():
    result = manage("check", TIME_ZONE="Mars/Olympus_Mons")
    assert result.returncode != 0
    assert "not a known time zone" in result.stderr


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REMINDER_HOURS", "abc", "REMINDER_HOURS must be whole numbers separated by commas"),
        ("REMINDER_HOURS", "24,-5", "REMINDER_HOURS must list numbers of at least 1, not -5"),
        ("LOG_LEVEL", "LOUD", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("SMS_BACKEND", "intake.notifications.Nope", "SMS_BACKEND='intake.notifications.Nope'"),
        ("SMS_BACKEND", "console", "SMS_BACKEND must be the dotted path of a class"),
        ("EMAIL_BACKEND", "django.core.mail.backends.smtpx.EmailBackend", "EMAIL_BACKEND="),
    ],
)
def test_a_bad_value_stops_the_start_with_the_variable_name(variable, value, message):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert message in result.stderr


PRINT_EMAIL_SETTINGS = (
    "from django.conf import settings; print(repr(settings.EMAIL_HOST), settings.EMAIL_BACKEND)"
)


def test_without_an_smtp_server_development_prints_e_mail_to_the_console():
    # README: EMAIL_HOST defaults to empty, and empty prints e-mail to the console.
    result = manage("shell", "--no-imports", "-c", PRINT_EMAIL_SETTINGS)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["''", "django.core.mail.backends.console.EmailBackend"]


def test_with_an_smtp_server_production_sends_through_it():
    result = manage("shell", "--no-imports", "-c", PRINT_EMAIL_SETTINGS, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "'smtp.clinic.example'",
        "django.core.mail.backends.smtp.EmailBackend",
    ]


def test_production_refuses_to_start_without_a_way_to_send_e_mail():
    """Falling back to the console would put whole e-mails (live password-reset links,
    names, consultation times) in the log."""
    env = {**PRODUCTION, "EMAIL_HOST": ""}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "Set EMAIL_HOST (the SMTP server) or EMAIL_BACKEND when DEBUG is off" in result.stderr


def test_production_starts_with_an_e_mail_backend_chosen_explicitly():
    env = {
        **PRODUCTION,
        "EMAIL_HOST": "",
        "EMAIL_BACKEND": "django.core.mail.backends.dummy.EmailBackend",
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", **env)
    assert result.returncode == 0, result.stderr + result.stdout


def test_the_deploy_check_refuses_the_console_backend_in_production():
    env = {
        **PRODUCTION,
        "EMAIL_HOST": "",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    assert manage("check", **env).returncode == 0  # chosen explicitly: it starts...
    result = manage("check", "--deploy", **env)
    assert result.returncode != 0  # ...and the deploy check says what it would do
    assert "clinic.E001" in result.stderr and "written to the log" in result.stderr
