"""The benchmark (bench/) as a smoke check: seeded at the small scale, served by
gunicorn with the production settings, every scenario driven by locust for a couple
of seconds. It fails on errors (a failed request, a scenario with no requests, a
seed that does not add up), never on timing: the figures belong in
docs/benchmarks.md."""

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

from bench.run import CARE_PAGES, LOCUST, SCENARIOS, select_of
from bench.seed import SCALES
from tests.conftest import chromium_path, database_url, require

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _bench(module: str, report: Path, *options: str) -> subprocess.CompletedProcess[str]:
    """Runs ``python -m bench.<module>`` at the small scale on the smoke database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            f"bench.{module}",
            "--scale",
            "small",
            *options,
            "--port",
            str(_free_port()),
            "--database-url",
            database_url("clinic_bench_smoke"),
            "--markdown",
            str(report),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_benchmark_runs_every_scenario_without_an_error(tmp_path: Path) -> None:
    require(LOCUST.exists(), f"{LOCUST} is missing (`make bench` or `make test` installs it)")
    report = tmp_path / "report.md"
    done = _bench("run", report, "--seconds", "2", "--reseed")
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    table = report.read_text()
    small = SCALES["small"]
    assert f"{small.cases:,} cases, {small.open_cases:,} open" in table
    for _, label in SCENARIOS.values():
        row = next((line for line in table.splitlines() if line.startswith(f"| {label} |")), None)
        assert row is not None, f"no row for {label}:\n{table}"
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        requests, failures = int(cells[1]), int(cells[2])
        assert requests > 0, row
        assert failures == 0, row
        assert re.fullmatch(r"[\d.]+( \(\d+–\d+\))?", cells[6]), f"queries not counted: {row}"
    # Every page is also measured against the signed-in floor (the signed-in floor
    # itself at 100%).
    assert re.search(r"^\| signed-in floor[^|]*(\|[^|]*){7}\| 100% \|", table, re.M), table
    # The floor touches no table; EXPLAIN ran on the three pages it names.
    assert re.search(r"^\| floor[^|]*\| \d+ \| 0 \|[^\n]*\| 0\.0 \|", table, re.M), table
    for page in ("queue", "case", "slots", "report", *CARE_PAGES):
        assert re.search(rf"^\| {page} [^|]+\| \d+ \| \d+ \|", table, re.M), table
    # The seed treats cases and plans their follow-ups, so the report has rows to add up.
    seeded = re.search(r"treated cases with ([\d,]+) follow-ups", output)
    assert seeded is not None and int(seeded.group(1).replace(",", "")) > 0, output[-4000:]
    # Each page's own cost, measured in-process, has its row.
    labels = ["signed-in floor", "physician's queue", "case page", "outcomes report"]
    for label in [*labels, *(SCENARIOS[name][1] for name in CARE_PAGES)]:
        assert re.search(rf"^\| {re.escape(label)}[^|]*\| [\d.]+ \|$", table, re.M), table

    # The phone measurement, once, on the same database.
    require(chromium_path() is not None, "Chromium is not installed (apt-get install chromium)")
    phone = tmp_path / "phone.md"
    done = _bench("phone", phone, "--rounds", "1")
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    measured = phone.read_text()
    for page in ("home", "login", "intake step 1", "intake step 5"):
        found = re.search(rf"^\| {page}[^|]*((\| [\d.]+ )+)\|$", measured, re.M)
        assert found is not None, measured
        figures = [float(cell) for cell in found.group(1).strip("| ").split(" | ")]
        # Something was transferred, and the page painted.
        assert len(figures) == 7 and figures[0] > 0 and figures[5] > 0, measured


def test_explain_sees_through_server_side_cursors_and_the_history_context() -> None:
    """A form's model choices are read through a server-side cursor; EXPLAIN once
    missed the physicians list (a sequential scan of every account) because of it."""
    select = 'SELECT "clinic_user"."id" FROM "clinic_user"'
    assert select_of(select) == select
    cursor = f'DECLARE "_django_curs_1_sync_4" NO SCROLL CURSOR WITH HOLD FOR {select}'
    assert select_of(cursor) == select
    assert select_of(f"SELECT set_config('pghistory.context_id', 'x', true); {select}") == select
    assert select_of('INSERT INTO "clinic_auditevent" ("id") VALUES (1)') is None
