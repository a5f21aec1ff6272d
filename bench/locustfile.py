"""The load: one locust user class per scenario, run one scenario at a time by
``bench/run.py``. Nothing here imports Django; what to request (session cookies,
paths, POST bodies) comes from the JSON file that the runner prepared
(``BENCH_STATE``). Each response's ``X-Bench-Queries`` header is collected and
written to ``BENCH_QUERIES_OUT`` when locust quits."""

import itertools
import json
import os
from collections.abc import Iterator
from typing import Any

from locust import FastHttpUser, events, task
from locust.exception import StopUser

with open(os.environ["BENCH_STATE"], encoding="utf-8") as state_file:
    STATE: dict[str, Any] = json.load(state_file)
CSRF = STATE["csrf"]
QUERIES: dict[str, list[int]] = {}
RAN_DRY: set[str] = set()
# Users take their session (and their own paths) in turn.
_next_user: Iterator[int] = itertools.count()
# Submit and booking consume one item per request.
_pools: dict[str, Iterator[dict[str, Any]]] = {
    name: iter(STATE[name].get("pool", [])) for name in ("submit", "booking")
}


@events.request.add_listener
def _count_queries(name: str, response: Any, exception: Any, **kwargs: Any) -> None:
    if exception is None and response is not None:
        queries = response.headers.get("X-Bench-Queries")
        if queries is not None:
            QUERIES.setdefault(name, []).append(int(queries))


@events.quitting.add_listener
def _write_queries(**kwargs: Any) -> None:
    with open(os.environ["BENCH_QUERIES_OUT"], "w", encoding="utf-8") as out:
        json.dump({"queries": QUERIES, "ran_dry": sorted(RAN_DRY)}, out)


def _headers(session: str) -> dict[str, str]:
    cookies = f"csrftoken={CSRF}"
    if session:
        cookies += f"; sessionid={session}"
    return {"Cookie": cookies, "X-CSRFToken": CSRF, "Referer": STATE["host"] + "/"}


class Scenario(FastHttpUser):
    abstract = True
    scenario = ""

    def on_start(self) -> None:
        users = STATE[self.scenario]["users"]
        self.me = users[next(_next_user) % len(users)]
        self.items = itertools.cycle(self.me["items"])
        self.headers = _headers(self.me["session"])

    def get(self, path: str, expect: int = 200) -> None:
        # A redirect (to the login page, say) is a failure, not followed.
        with self.client.get(
            path,
            name=self.scenario,
            headers=self.headers,
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"{path}: {response.status_code}, expected {expect}")

    def post(self, path: str, body: str, headers: dict[str, str], expect: int = 302) -> None:
        with self.client.post(
            path,
            data=body,
            name=self.scenario,
            headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"{path}: {response.status_code}, expected {expect}")

    def take(self) -> dict[str, Any]:
        try:
            return next(_pools[self.scenario])
        except StopIteration:
            RAN_DRY.add(self.scenario)
            raise StopUser() from None


class PageVisits(Scenario):
    """A GET scenario: each user requests its own pages in turn."""

    abstract = True

    @task
    def visit(self) -> None:
        self.get(next(self.items))


class Floor(PageVisits):
    scenario = "floor"


class SignedInFloor(PageVisits):
    scenario = "signed_in"


class Queue(PageVisits):
    scenario = "queue"


class CasePage(PageVisits):
    scenario = "case"


class OutcomesReport(PageVisits):
    scenario = "report"


class PlanPage(PageVisits):
    scenario = "plan"


class EstimatePage(PageVisits):
    scenario = "estimate"


class FollowUpPage(PageVisits):
    scenario = "followup"


class CallList(PageVisits):
    scenario = "calls"


class CaseExport(PageVisits):
    scenario = "fhir"


class SlotSearch(PageVisits):
    scenario = "slots"


class StepSave(Scenario):
    scenario = "step"

    @task
    def step(self) -> None:
        item = next(self.items)
        self.post(item["path"], item["body"], self.headers)


class Submit(Scenario):
    scenario = "submit"

    @task
    def submit(self) -> None:
        item = self.take()
        self.post(item["path"], item["body"], _headers(item["session"]))


class Booking(Scenario):
    scenario = "booking"

    @task
    def booking(self) -> None:
        item = self.take()
        self.post(item["path"], item["body"], self.headers)
