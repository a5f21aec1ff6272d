"""Prints the clinic's outcomes report (every physician, every date): one row per
treatment option x condition x time point, as CSV with ``--csv`` or as aligned text."""

import csv
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from care.outcomes import REPORT_COLUMNS, outcomes_report, report_csv_row


class Command(BaseCommand):
    help = "Print the follow-up outcomes report for the whole clinic."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--csv", action="store_true", help="Print CSV (with a header row).")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = [report_csv_row(r) for r in outcomes_report(today=timezone.localdate())]
        if options["csv"]:
            writer = csv.writer(self.stdout, lineterminator="\n")
            writer.writerow(REPORT_COLUMNS)
            writer.writerows(rows)
            return
        table = [REPORT_COLUMNS, *[[str(v) for v in r] for r in rows]]
        widths = [max(len(str(line[i])) for line in table) for i in range(len(REPORT_COLUMNS))]
        for line in table:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=True)))
