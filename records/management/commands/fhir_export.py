"""``manage.py fhir_export --out DIR [--since DATE]``: the clinic's records as FHIR R4
NDJSON, one file per resource type, with a Bulk Data style ``manifest.json``.

The files hold patients' health data: write them only where the clinic keeps such
data. Uploaded imaging is listed (metadata and where to download it), never copied."""

from datetime import datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from clinic.errors import ClinicError
from records.services import fhir_bulk_export


def parse_since(value: str) -> datetime:
    """``--since``: an ISO date (midnight in the clinic's time zone) or date and time
    (without an offset: the clinic's time zone), not in the future."""
    text = value.strip()
    try:
        moment = parse_datetime(text)
        if moment is None:
            day = parse_date(text)
            if day is None:
                raise ValueError
            moment = datetime.combine(day, time())
    except (ValueError, OverflowError):
        raise CommandError(
            f"--since {value[:40]!r} is not a date: give one like 2026-06-30 or 2026-06-30T18:00."
        ) from None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment > timezone.now():
        raise CommandError(f"--since {text} is in the future: nothing can have changed since.")
    return moment


def prepare_out(value: str) -> Path:
    """``--out``: a new directory (its parent must exist) or an empty one."""
    if not value.strip() or "\x00" in value:
        raise CommandError("--out must name a directory.")
    out = Path(value).expanduser()
    if out.exists() and not out.is_dir():
        raise CommandError(f"--out {out} exists and is not a directory.")
    if out.is_dir():
        if any(out.iterdir()):
            raise CommandError(
                f"--out {out} is not empty: export into a new or empty directory, so "
                "no earlier export's files are mixed in or overwritten."
            )
        return out
    if not out.parent.is_dir():
        raise CommandError(f"--out {out}: its parent folder {out.parent} does not exist.")
    try:
        out.mkdir(mode=0o700)
    except OSError as error:
        raise CommandError(f"--out {out} cannot be created ({error.strerror}).") from None
    return out


class Command(BaseCommand):
    help = (
        "Export the clinic's records as FHIR R4 NDJSON (one file per resource type) "
        "with a manifest, optionally only the cases changed since a date."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="A new or empty directory.")
        parser.add_argument(
            "--since",
            help="Only cases changed at or after this date or date and time (ISO 8601; "
            "without an offset, in the clinic's time zone).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        since = parse_since(options["since"]) if options["since"] is not None else None
        out = prepare_out(options["out"])
        try:
            export = fhir_bulk_export(out=out, since=since)
        except (ClinicError, OSError) as error:
            raise CommandError(str(error)) from None
        written = ", ".join(f"{kind} {count}" for kind, count in export.counts.items())
        self.stdout.write(
            f"Exported {export.cases} case(s) to {out}: {written or 'nothing'}; "
            f"see {out / 'manifest.json'}."
        )
