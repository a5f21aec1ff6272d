"""No double booking, in the database: two active consultations of one physician
cannot overlap (PostgreSQL exclusion constraint over a half-open time range, so
back-to-back consultations are allowed). SQLite, used only for local demos, has no
such constraint; the booking service's lock and re-check still apply there.

Also seeds the consultation types with their durations."""

from typing import Any

from django.contrib.postgres.operations import BtreeGistExtension
from django.db import migrations

CONSTRAINT = "consultation_no_overlap_per_physician"

CONSULTATION_TYPES = [
    ("new-consultation", "New consultation", 45),
    ("follow-up", "Follow-up", 20),
    ("injection-procedure", "Injection procedure", 90),
]


def add_exclusion(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE intake_consultation ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (physician_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&) "
        "WHERE (state <> 'cancelled')"
    )


def drop_exclusion(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE intake_consultation DROP CONSTRAINT {CONSTRAINT}")


def seed(apps: Any, schema_editor: Any) -> None:
    ConsultationType = apps.get_model("intake", "ConsultationType")
    for slug, name, minutes in CONSULTATION_TYPES:
        ConsultationType.objects.update_or_create(
            slug=slug, defaults={"name": name, "duration_minutes": minutes}
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0004_calendar")]

    operations = [
        BtreeGistExtension(),  # a no-op on other databases
        migrations.RunPython(add_exclusion, drop_exclusion),
        migrations.RunPython(seed, migrations.RunPython.noop),
    ]
