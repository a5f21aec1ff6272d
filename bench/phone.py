"""What a patient's phone downloads and how soon it paints: ``python -m bench.phone``.

Serves the app as ``bench/run.py`` does (gunicorn, production settings, WhiteNoise)
on a seeded benchmark database, and opens four pages in headless Chromium (Debian's)
at 375 px: the home page, the login page, and steps 1 and 5 of a patient's intake
draft (signed in). Each page is opened in a fresh browser context (empty cache: the
first visit), then opened again in the same context (the repeat visit), with the
network throttled to slow 4G (150 ms latency, 1.6 Mbps down, 750 kbps up) and the CPU
slowed four times, through the DevTools protocol. It prints, per page, the bytes
transferred (the sum of every response's encoded length, headers included) and the
first contentful paint, each the median of ``--rounds`` rounds. Timings never fail it.
"""

import argparse
import os
import signal
import statistics
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.run import ROOT, _database, _environment, _manage, _serve, _session, default_database_url

SLOW_4G = {
    "offline": False,
    "latency": 150,
    "downloadThroughput": 1_600_000 / 8,
    "uploadThroughput": 750_000 / 8,
}
CPU_SLOWDOWN = 4
PHONE = {"width": 375, "height": 812}


@dataclass
class Visit:
    transferred: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    fcp_ms: float = 0.0


def _visit(page: Any, cdp: Any, url: str) -> Visit:
    visit = Visit()
    kinds: dict[str, str] = {}

    def received(event: dict[str, Any]) -> None:
        kinds[event["requestId"]] = event.get("type", "Other")

    def finished(event: dict[str, Any]) -> None:
        size = int(event.get("encodedDataLength", 0))
        visit.transferred += size
        kind = kinds.get(event["requestId"], "Other")
        visit.by_type[kind] = visit.by_type.get(kind, 0) + size

    cdp.on("Network.responseReceived", received)
    cdp.on("Network.loadingFinished", finished)
    response = page.goto(url, wait_until="load")
    if response is None or response.status != 200:
        raise SystemExit(f"{url} answered {response.status if response else 'nothing'}")
    page.wait_for_timeout(300)  # the last loadingFinished events
    cdp.remove_listener("Network.responseReceived", received)
    cdp.remove_listener("Network.loadingFinished", finished)
    visit.fcp_ms = float(
        page.evaluate(
            "() => (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime || 0"
        )
    )
    return visit


def measure(
    browser: Any, url: str, session: str, host: str, rounds: int
) -> tuple[list[Visit], list[Visit]]:
    firsts, repeats = [], []
    for _ in range(rounds):
        context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
        if session:
            context.add_cookies([{"name": "sessionid", "value": session, "url": host}])
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.emulateNetworkConditions", SLOW_4G)
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
        firsts.append(_visit(page, cdp, url))
        repeats.append(_visit(page, cdp, url))
        context.close()
    return firsts, repeats


def _row(name: str, firsts: list[Visit], repeats: list[Visit]) -> str:
    def kb(visits: list[Visit], kind: str | None = None) -> str:
        sizes = [v.transferred if kind is None else v.by_type.get(kind, 0) for v in visits]
        return f"{statistics.median(sizes) / 1024:.1f}"

    def fcp(visits: list[Visit]) -> str:
        return f"{statistics.median(v.fcp_ms for v in visits) / 1000:.2f}"

    return (
        f"| {name} | {kb(firsts)} | {kb(firsts, 'Document')} | {kb(firsts, 'Stylesheet')} "
        f"| {kb(firsts, 'Script')} | {kb(repeats)} | {fcp(firsts)} | {fcp(repeats)} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--scale", choices=["small", "large"], default="small")
    parser.add_argument("--port", type=int, default=8779)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--markdown", type=Path, help="also write the table here")
    args = parser.parse_args(argv)
    args.database_url = args.database_url or default_database_url(args.scale)
    env = _environment(args)
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.db import connection
    from django.urls import reverse
    from playwright.sync_api import sync_playwright

    from bench.seed import seeded_scale
    from intake.models import Intake
    from tests.conftest import chromium_path

    _database(args.database_url, fresh=False)
    if seeded_scale() != args.scale:
        raise SystemExit(f"Seed the {args.scale} scale first: make bench SCALE={args.scale}")
    _manage("collectstatic", "--noinput", "-v", "0")
    draft = (
        Intake.objects.filter(status=Intake.Status.DRAFT, patient__email__startswith="patient")
        .select_related("patient")
        .order_by("pk")
        .first()
    )
    if draft is None:
        raise SystemExit("No intake draft in the benchmark database.")
    session = _session(draft.patient)
    host = f"http://127.0.0.1:{args.port}"
    pages = [
        ("home", reverse("home"), ""),
        ("login", reverse("login"), ""),
        *(
            (
                f"intake step {n} (signed in)",
                reverse("intake:step", kwargs={"public_id": draft.public_id, "step": n}),
                session,
            )
            for n in (1, 5)
        ),
    ]
    connection.close()
    executable = chromium_path()
    if executable is None:
        raise SystemExit("Chromium is not installed (apt-get install chromium)")
    lines = [
        f"Phone (375 px), slow 4G (150 ms, 1.6 Mbps down), CPU slowed {CPU_SLOWDOWN}x; "
        f"median of {args.rounds} rounds",
        "",
        "| Page | First visit KB | of it HTML | CSS | JavaScript | Repeat visit KB "
        "| First contentful paint, first visit s | repeat visit s |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    with tempfile.TemporaryDirectory(prefix="clinic-phone-") as tmp:
        server = _serve(args, {**os.environ, **env}, Path(tmp) / "gunicorn.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=executable)
                for name, path, cookie in pages:
                    firsts, repeats = measure(browser, host + path, cookie, host, args.rounds)
                    lines.append(_row(name, firsts, repeats))
                browser.close()
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    print("\n".join(lines))
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
