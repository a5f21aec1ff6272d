"""Typed readers for settings from the environment.

Only ``clinic/settings.py`` calls these (and ``clinic.apps`` calls ``import_class``).
Each one fails loudly with the variable's name when a value cannot be read, instead of
quietly falling back to a default.
"""

import os
import re

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name)
    if value is None or value == "":
        if default is None:
            raise ImproperlyConfigured(f"Set the environment variable {name}.")
        return default
    return value


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name, "").strip().lower()
    if value == "":
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    value = os.environ.get(name, "").strip()
    if value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}.") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {number}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


def env_int_list(name: str, default: list[int], *, minimum: int = 1) -> list[int]:
    """Comma-separated whole numbers, each at least ``minimum`` (e.g. ``24,2``)."""
    numbers = []
    for item in env_list(name, [str(number) for number in default]):
        try:
            number = int(item)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name} must be whole numbers separated by commas, not {item!r}."
            ) from None
        if number < minimum:
            raise ImproperlyConfigured(
                f"{name} must list numbers of at least {minimum}, not {number}."
            )
        numbers.append(number)
    return numbers


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def env_log_level(name: str, default: str) -> str:
    """One of Python's log level names, in any case."""
    value = env_str(name, default=default).strip().upper()
    if value not in LOG_LEVELS:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(LOG_LEVELS)}, not {value!r}.")
    return value


_DOTTED_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+")


def env_class_path(name: str, default: str) -> str:
    """The dotted path of a class (e.g. ``package.module.Class``). Its form is checked
    here; ``import_class`` checks that it imports once the apps are loaded, at start
    (``clinic.apps``), since a backend's module may import models."""
    value = env_str(name, default=default).strip()
    if not _DOTTED_PATH.fullmatch(value):
        raise ImproperlyConfigured(
            f"{name} must be the dotted path of a class, like {default!r}, not {value!r}."
        )
    return value


def import_class(name: str, path: str) -> type:
    """The class ``path`` (read from the variable ``name``), or a refusal naming both."""
    try:
        found = import_string(path)
    except ImportError as error:
        raise ImproperlyConfigured(f"{name}={path!r} cannot be imported: {error}") from None
    if not isinstance(found, type):
        raise ImproperlyConfigured(f"{name}={path!r} is not a class.")
    return found
