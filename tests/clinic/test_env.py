import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import env_bool, env_int, env_list, env_str


def test_env_bool_reads_common_spellings(monkeypatch):
    monkeypatch.setenv("FLAG", "Yes")
    assert env_bool("FLAG", default=False) is True
    monkeypatch.setenv("FLAG", "off")
    assert env_bool("FLAG", default=True) is False
    monkeypatch.delenv("FLAG")
    assert env_bool("FLAG", default=True) is True


def test_env_bool_refuses_a_typo(monkeypatch):
    monkeypatch.setenv("FLAG", "ture")
    with pytest.raises(ImproperlyConfigured, match="FLAG must be true or false"):
        env_bool("FLAG", default=False)


def test_env_int_refuses_text_and_too_small(monkeypatch):
    monkeypatch.setenv("N", "sixty")
    with pytest.raises(ImproperlyConfigured, match="N must be a whole number"):
        env_int("N", default=1)
    monkeypatch.setenv("N", "-1")
    with pytest.raises(ImproperlyConfigured, match="at least 0"):
        env_int("N", default=1, minimum=0)
    monkeypatch.setenv("N", "15")
    assert env_int("N", default=1, minimum=0) == 15


def test_env_str_without_default_is_required(monkeypatch):
    monkeypatch.delenv("MUST_HAVE", raising=False)
    with pytest.raises(ImproperlyConfigured, match="MUST_HAVE"):
        env_str("MUST_HAVE")
    assert env_str("MUST_HAVE", default="x") == "x"


def test_env_list_splits_and_trims(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.example, b.example ,,")
    assert env_list("HOSTS", []) == ["a.example", "b.example"]
