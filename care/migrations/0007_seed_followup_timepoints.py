"""The follow-up schedule the clinic starts with: 6 weeks, 3, 6 and 12 months after
the procedure, as regenerative-medicine registries ask (pain, function and
complications at about 1-1.5, 3, 6 and 12 months). Each questionnaire opens 7 days
before its date and closes 28 days after it. Admin data: the clinic may change it;
follow-ups already planned keep their own dates."""

from django.db import migrations

TIMEPOINTS = [
    ("6 weeks", 42),
    ("3 months", 91),
    ("6 months", 182),
    ("12 months", 365),
]


def seed(apps, schema_editor):
    FollowUpTimepoint = apps.get_model("care", "FollowUpTimepoint")
    for name, days in TIMEPOINTS:
        FollowUpTimepoint.objects.update_or_create(
            days_after=days,
            defaults={"name": name, "opens_days_before": 7, "closes_days_after": 28},
        )


def unseed(apps, schema_editor):
    FollowUpTimepoint = apps.get_model("care", "FollowUpTimepoint")
    FollowUpTimepoint.objects.filter(days_after__in=[d for _, d in TIMEPOINTS]).delete()


class Migration(migrations.Migration):
    dependencies = [("care", "0006_followups")]

    operations = [migrations.RunPython(seed, unseed)]
