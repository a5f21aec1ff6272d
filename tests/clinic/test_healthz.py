from collections.abc import Iterator

import pytest

from clinic.celery import app as celery_app
from tests.conftest import REDIS_TEST_URL, redis_answers, require


@pytest.fixture
def broker(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """Points the Celery app at a broker URL for one test, then back."""
    original = celery_app.conf.broker_url

    def use(url: str) -> None:
        # Celery reads the CELERY_BROKER_URL variable before its own configuration.
        monkeypatch.setenv("CELERY_BROKER_URL", url)
        celery_app.conf.task_always_eager = False
        celery_app.conf.update(broker_url=url)

    yield use
    celery_app.conf.update(broker_url=original)


def test_healthz_reports_database_and_in_process_tasks(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "in-process"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_with_a_live_redis_broker(client, db, broker):
    require(redis_answers(), "Redis is not answering on 127.0.0.1:6379")
    broker(REDIS_TEST_URL)
    assert client.get("/healthz").json()["broker"] == "ok"


def test_healthz_is_503_when_the_broker_is_down(client, db, broker):
    broker("redis://127.0.0.1:1/0")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "database": "ok", "broker": "unreachable"}


def test_healthz_refuses_post(client, db):
    assert client.post("/healthz").status_code == 405
