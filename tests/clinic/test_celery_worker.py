"""A real Celery worker, in its own process, against Redis and the test database."""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from clinic.celery import app as celery_app
from clinic.models import OutboundEmail
from clinic.services import email_queue
from tests.conftest import REDIS_TEST_URL, database_url, redis_answers, require

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def worker(tmp_path: Path) -> Iterator[Path]:
    """Starts `celery worker` on the test database and an emptied Redis database;
    yields the folder its e-mail backend writes to."""
    require(redis_answers(), "Redis is not answering on 127.0.0.1:6379")
    redis.Redis.from_url(REDIS_TEST_URL).flushdb()
    mail_dir = tmp_path / "mail"
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "CELERY_BROKER_URL": REDIS_TEST_URL,
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
        "CONN_MAX_AGE": "0",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "clinic",
            "worker",
            "-P",
            "solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield mail_dir
    finally:
        process.terminate()
        try:
            output, _ = process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        print(output)


def _forget_broker_connections() -> None:
    # Celery caches its connection and producer pools on first use; drop them so the
    # next task is sent to the broker URL just configured.
    celery_app._pool = None  # type: ignore[attr-defined]
    celery_app.amqp._producer_pool = None  # type: ignore[attr-defined]


@pytest.fixture
def real_broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Makes this process enqueue to Redis instead of running tasks in-process."""
    original = celery_app.conf.broker_url
    # Celery reads the CELERY_BROKER_URL variable before its own configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", REDIS_TEST_URL)
    celery_app.conf.task_always_eager = False
    celery_app.conf.update(broker_url=REDIS_TEST_URL)
    _forget_broker_connections()
    yield
    celery_app.pool.force_close_all()  # type: ignore[attr-defined]
    _forget_broker_connections()
    celery_app.conf.update(broker_url=original)
    celery_app.conf.task_always_eager = True


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_delivers_an_email_enqueued_on_commit(worker, real_broker):
    email = email_queue(
        to="pat@clinic.example",
        subject="Worker test",
        template="registration/password_reset_subject.txt",
        context={"CLINIC_NAME": "Worker Clinic"},
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        email.refresh_from_db()
        if email.sent_at is not None:
            break
        time.sleep(0.2)
    assert email.sent_at is not None, "the worker did not deliver the e-mail within 60 s"
    sent = list(worker.iterdir())
    assert len(sent) == 1
    assert "Subject: Worker test" in sent[0].read_text()
    assert OutboundEmail.objects.get(pk=email.pk).attempts == 1
