import pytest
from django.core.exceptions import ImproperlyConfigured

from clinic.env import (
    env_bool,
    env_class_path,
    env_int,
    env_int_list,
    env_list,
    env_log_level,
    env_str,
    import_class,
)


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


def test_env_int_list_reads_positive_whole_numbers(monkeypatch):
    monkeypatch.delenv("HOURS", raising=False)
    assert env_int_list("HOURS", [24, 2]) == [24, 2]
    monkeypatch.setenv("HOURS", " 48, 3 ,")
    assert env_int_list("HOURS", [24, 2]) == [48, 3]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("abc", "HOURS must be whole numbers separated by commas, not 'abc'"),
        ("24,2.5", "HOURS must be whole numbers separated by commas, not '2.5'"),
        ("24,-5", "HOURS must list numbers of at least 1, not -5"),
        ("0", "HOURS must list numbers of at least 1, not 0"),
    ],
)
def test_env_int_list_refuses_what_is_not_a_positive_number(monkeypatch, value, message):
    monkeypatch.setenv("HOURS", value)
    with pytest.raises(ImproperlyConfigured, match=message):
        env_int_list("HOURS", [24, 2], minimum=1)


def test_env_log_level_knows_the_level_names(monkeypatch):
    monkeypatch.setenv("LEVEL", "warning")
    assert env_log_level("LEVEL", default="INFO") == "WARNING"
    monkeypatch.setenv("LEVEL", "LOUD")
    with pytest.raises(ImproperlyConfigured, match="LEVEL must be one of DEBUG, INFO, WARNING"):
        env_log_level("LEVEL", default="INFO")


def test_env_class_path_refuses_what_is_not_a_dotted_path(monkeypatch):
    monkeypatch.setenv("BACKEND", "console")
    with pytest.raises(ImproperlyConfigured, match="BACKEND must be the dotted path of a class"):
        env_class_path("BACKEND", default="intake.notifications.ConsoleSmsBackend")
    monkeypatch.setenv("BACKEND", "intake.notifications.ConsoleSmsBackend ")
    assert env_class_path("BACKEND", default="x.Y") == "intake.notifications.ConsoleSmsBackend"


def test_import_class_names_the_variable_when_the_class_is_missing():
    from intake.notifications import ConsoleSmsBackend

    assert import_class("SMS", "intake.notifications.ConsoleSmsBackend") is ConsoleSmsBackend
    with pytest.raises(ImproperlyConfigured, match=r"SMS='intake\.notifications\.Nope' cannot be"):
        import_class("SMS", "intake.notifications.Nope")
    with pytest.raises(ImproperlyConfigured, match=r"SMS='no_such_module\.Backend' cannot be"):
        import_class("SMS", "no_such_module.Backend")
    with pytest.raises(ImproperlyConfigured, match="is not a class"):
        import_class("SMS", "intake.notifications.sms_send")
