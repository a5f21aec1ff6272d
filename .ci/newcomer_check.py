"""The newcomer check: what a new contributor or a clinic trying the demo does first.

Run by .ci/run from a fresh clone with DATABASE_URL and CELERY_BROKER_URL unset: starts
`make run ADDR=127.0.0.1:<free port>` in its own process group, waits for /healthz,
signs up through the sign-up form (CSRF token and all), logs in as a demo patient,
then stops the server by its process group and checks that no PostgreSQL server of
this clone is left running. Any 5xx, or any step that does not answer as a user
would expect, fails. Standard library only: it runs before anything is installed.
"""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

CLONE = Path(__file__).resolve().parent.parent
DEMO_PATIENT = ("maria@clinic.example", "demo-clinic-2026")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


def fail(message: str) -> None:
    print(f"newcomer check FAILED: {message}", flush=True)
    raise SystemExit(1)


def postmasters() -> list[str]:
    """PostgreSQL servers whose data folder is inside this clone."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        if args and args[0].endswith(b"postgres") and str(CLONE).encode() in b" ".join(args):
            found.append(cmdline.parent.name)
    return found


def main() -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    env.pop("CI", None)  # the demo as a newcomer gets it
    log = open(CLONE / ".ci-newcomer.log", "w")  # noqa: SIM115
    server = subprocess.Popen(
        ["make", "run", f"ADDR=127.0.0.1:{port}"],
        cwd=CLONE,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)

    def request(path: str, data: dict[str, str] | None = None) -> tuple[int, str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        req = urllib.request.Request(base + path, data=body, headers={"Referer": base + path})
        try:
            with opener.open(req, timeout=30) as response:
                location = response.headers.get("Location", "")
                return response.status, location, response.read().decode()
        except urllib.error.HTTPError as error:
            text = error.read().decode(errors="replace")
            if error.code >= 500:
                fail(f"{'POST' if data else 'GET'} {path} answered {error.code}:\n{text[:2000]}")
            return error.code, error.headers.get("Location", ""), text

    def csrf(page: str) -> str:
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if match is None:
            fail("no CSRF token in the form")
        return match.group(1)  # type: ignore[union-attr]

    try:
        deadline = time.monotonic() + 600  # a fresh clone installs its packages first
        while True:
            if server.poll() is not None:
                fail(f"make run exited with {server.returncode}; see .ci-newcomer.log")
            try:
                with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                fail("/healthz did not answer within 10 minutes")
            time.sleep(1)
        print(f"make run serves on {base}; /healthz answered", flush=True)

        status, _, page = request("/intake/start/")
        if status != 200:
            fail(f"GET /intake/signup/ answered {status}")
        status, location, _ = request(
            "/intake/start/",
            {
                "csrfmiddlewaretoken": csrf(page),
                "full_name": "Nora Newcomer",
                "email": "nora.newcomer@example.org",
                "password1": "knee-pain-since-2019",
                "password2": "knee-pain-since-2019",
            },
        )
        if status != 302:
            fail(f"sign-up answered {status}, not 302")
        print(f"sign-up: 302 to {location}", flush=True)

        jar.clear()
        status, _, page = request("/accounts/login/")
        if status != 200:
            fail(f"GET /accounts/login/ answered {status}")
        status, location, _ = request(
            "/accounts/login/",
            {
                "csrfmiddlewaretoken": csrf(page),
                "username": DEMO_PATIENT[0],
                "password": DEMO_PATIENT[1],
            },
        )
        if status != 302:
            fail(f"login answered {status}, not 302")
        if location.startswith("/accounts/home/"):  # the role's home, one hop
            status, location, _ = request(location)
        if not location.endswith("/intake/"):
            fail(f"login led to {location!r}, not /intake/")
        status, _, page = request("/intake/")
        if status != 200 or "Log out" not in page:
            fail(f"the patient's home answered {status} without a way to sign out")
        print(f"login as {DEMO_PATIENT[0]}: 302 to {location}; home 200", flush=True)
    finally:
        with_group = os.getpgid(server.pid) if server.poll() is None else None
        if with_group is not None:
            os.killpg(with_group, signal.SIGTERM)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
    for _ in range(100):
        left = postmasters()
        if not left:
            break
        time.sleep(0.1)
    if left:
        fail(f"PostgreSQL of this clone still running after make run stopped: pids {left}")
    print("stopped make run; no PostgreSQL of this clone is left running", flush=True)


if __name__ == "__main__":
    main()
    sys.exit(0)
