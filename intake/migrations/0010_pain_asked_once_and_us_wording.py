"""Pain is asked once: the pain step rates each painful area now and at its worst in
the last week, so the function step no longer asks a third 0–10 rating ("on average
over the last week") of no particular area. The instrument stays, with its saved
answers and scores, for follow-up questionnaires; it is only left out of the intake.

And the instruments' notes in US spelling ("license"). The consent text is unchanged:
it is signed by version and checksum, and it has no British spelling.
"""

from django.db import migrations

NO_LICENSE = "Written by the clinic for this product; no license needed."
OLD_NO_LICENCE = "Written by the clinic for this product; no licence needed."


def forwards(apps, schema_editor):
    Instrument = apps.get_model("intake", "Instrument")
    Instrument.objects.filter(slug="pain-nrs").update(in_intake=False)
    Instrument.objects.filter(licence_note=OLD_NO_LICENCE).update(licence_note=NO_LICENSE)


def backwards(apps, schema_editor):
    Instrument = apps.get_model("intake", "Instrument")
    Instrument.objects.filter(slug="pain-nrs").update(in_intake=True)
    Instrument.objects.filter(licence_note=NO_LICENSE).update(licence_note=OLD_NO_LICENCE)


class Migration(migrations.Migration):
    dependencies = [("intake", "0009_consent_2026_12")]

    operations = [migrations.RunPython(forwards, backwards)]
