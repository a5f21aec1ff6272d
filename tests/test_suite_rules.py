"""The test suite's own rules: an unexpected pass is a failure, and the production
password hasher is exercised."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.urls import reverse

from clinic.roles import Role
from clinic.services import user_create

ROOT = Path(__file__).resolve().parents[1]


def test_an_xfail_test_that_passes_fails_the_run(tmp_path: Path) -> None:
    """``xfail_strict``: a test marked as failing that passes (the bug fixed, or the
    test no longer testing anything) fails the run, in CI too."""
    (tmp_path / "test_fixed_bug.py").write_text(
        "import pytest\n\n\n@pytest.mark.xfail(reason='a known bug')\n"
        "def test_the_bug():\n    assert True\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:django",
            "-p",
            "no:cacheprovider",
            str(tmp_path / "test_fixed_bug.py"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == pytest.ExitCode.TESTS_FAILED, result.stdout + result.stderr
    assert "XPASS(strict)" in result.stdout


@pytest.mark.production_hashing
def test_passwords_are_stored_with_argon2_and_log_in(client, db, settings) -> None:
    """Every other test hashes with MD5 for speed; this one keeps the production
    hashers, so Argon2 (and its library) is exercised."""
    assert settings.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"
    password = "a long and unusual pass phrase"
    user = user_create(
        email="argon@clinic.example", full_name="Ari Argon", role=Role.PATIENT, password=password
    )
    user.refresh_from_db()
    assert user.password.startswith("argon2$argon2id$")
    assert identify_hasher(user.password).algorithm == "argon2"
    response = client.post(reverse("login"), {"username": user.email, "password": password})
    assert response.status_code == 302
    wrong = client.post(reverse("login"), {"username": user.email, "password": password + "x"})
    assert wrong.status_code == 200
