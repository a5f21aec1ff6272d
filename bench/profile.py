"""Where a page's time goes: ``python -m bench.profile --scale large``.

On a database seeded by ``bench/run.py``, requests each page ``--requests`` times in
this process (Django's test client, the production settings, physician 1's session,
after one request to warm up) under pyinstrument, and prints for each page the time
per request split by the code that spent it (Django's templates, the ORM, the
database driver, crispy-forms, our apps...; each frame's own time, so nothing is
counted twice), then the functions with the most time of their own.
"""

import argparse
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from bench.run import ROOT, _environment, _session, default_database_url

# Longest prefix first: the part of a file's path that names who spent the time.
AREAS = [
    ("django/template", "Django templates"),
    ("django/db/models", "Django ORM (building queries and objects)"),
    ("django/db/backends", "Django database layer and driver (with the wait for PostgreSQL)"),
    ("psycopg2", "Django database layer and driver (with the wait for PostgreSQL)"),
    ("crispy_forms", "crispy-forms"),
    ("crispy_bootstrap5", "crispy-forms"),
    ("django/forms", "Django forms"),
    ("django/utils", "Django utilities (formats, translation, safe strings)"),
    ("django/contrib/sessions", "sessions"),
    ("django/contrib/auth", "authentication"),
    ("django_otp", "second factor (django-otp)"),
    ("django/middleware", "Django middleware"),
    ("django/test", "test client (not part of a real request)"),
    ("django", "Django (other)"),
    ("pghistory", "change history"),
    ("phonenumber", "phone numbers"),
    ("/clinic/", "our code: clinic"),
    ("/intake/", "our code: intake"),
    ("/care/", "our code: care"),
    ("/records/", "our code: records"),
    ("/treatments/", "our code: treatments"),
]


def _area(path: str) -> str:
    for prefix, name in AREAS:
        if prefix in path:
            return name
    return "Python and other libraries"


def _walk(frame: Any, areas: Counter[str], functions: Counter[str], caller: str = "") -> None:
    """Adds each frame's own time (pyinstrument keeps it in a synthetic "[self]"
    child, skipped here) to its area; a built-in (C) function's, such as the
    driver's ``execute``, to the area of the code that called it."""
    if frame.is_synthetic:
        return
    path = frame.file_path or ""
    area = caller if (not path or path.startswith("<")) and caller else _area(path)
    own = frame.total_self_time
    if own:
        areas[area] += own
        functions[f"{frame.function} ({Path(path or '?').name}:{frame.line_no})"] += own
    for child in frame.children:
        _walk(child, areas, functions, area)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--scale", choices=["small", "large", "xlarge"], default="large")
    parser.add_argument("--requests", type=int, default=30, help="per page")
    parser.add_argument("--top", type=int, default=12, help="functions listed per page")
    parser.add_argument("--database-url", default="")
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    args.database_url = args.database_url or default_database_url(args.scale)
    os.environ.update(_environment(args))
    sys.path.insert(0, str(ROOT))

    import django

    django.setup()
    from django.conf import settings
    from django.test import Client
    from django.urls import reverse
    from pyinstrument import Profiler

    from bench.seed import physician_email, seeded_scale
    from clinic.models import User
    from intake.models import Case

    if seeded_scale() != args.scale:
        raise SystemExit(f"Seed the {args.scale} scale first: make bench SCALE={args.scale}")
    physician = User.objects.get(email=physician_email(1))
    case = Case.objects.open_for(physician).values_list("public_id", flat=True).first()
    treated = (
        Case.objects.filter(assigned_to=physician, state=Case.State.TREATED)
        .values_list("public_id", flat=True)
        .first()
    )
    pages = [
        ("signed-in floor", "/bench/floor/signed-in"),
        ("physician's queue", reverse("review:queue") + "?tab=mine"),
        ("case page", reverse("review:case", kwargs={"public_id": case})),
        ("treatment plan page", reverse("care:plan", args=[treated])),
    ]
    client = Client(HTTP_HOST="127.0.0.1")
    client.cookies[settings.SESSION_COOKIE_NAME] = _session(physician)
    for name, path in pages:
        client.get(path)
        profiler = Profiler(interval=0.0002)
        profiler.start()
        for _ in range(args.requests):
            response = client.get(path)
        profiler.stop()
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
        session = profiler.last_session
        assert session is not None  # noqa: S101
        root = session.root_frame()
        areas: Counter[str] = Counter()
        functions: Counter[str] = Counter()
        if root is not None:
            _walk(root, areas, functions)
        per_request = 1000 * session.duration / args.requests
        print(f"\n{name}: {per_request:.1f} ms a request ({args.requests} requests)\n")
        print("| Spent in | ms a request | share |")
        print("|---|---:|---:|")
        total = sum(areas.values()) or 1.0
        for area, seconds in areas.most_common():
            share = seconds / total
            if share >= 0.01:
                print(f"| {area} | {per_request * share:.1f} | {100 * share:.0f}% |")
        print(f"\nTop {args.top} functions by their own time:\n")
        for function, seconds in functions.most_common(args.top):
            print(f"- {function}: {100 * seconds / total:.1f}%")
    return 0


if __name__ == "__main__":
    sys.exit(main())
