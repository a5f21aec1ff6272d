"""Step 5 asks every patient the red-flag questions, whatever the body region, so no
question may take back pain for granted. The cauda equina question began "Since
your back pain began", which a knee patient cannot answer, and new saddle numbness
or loss of bladder or bowel control needs the emergency department with or without
back pain (NICE CKS, Sciatica: red flags for cauda equina syndrome). The limb
weakness question began "With your back or neck pain"."""

from typing import Any

from django.db import migrations

QUESTION = (
    "Have you recently had numbness around the groin or buttocks, or new trouble "
    "controlling your bladder or bowels?"
)
SOURCE_ADDED = (
    " Asked of every patient: it needs the emergency department with or without back pain."
)


WEAKNESS = (
    "Do you have back or neck pain, and is an arm or a leg getting weaker (for example "
    "your foot drags, your knee gives way or your grip fails)?"
)


def reword(apps: Any, schema_editor: Any) -> None:
    RedFlag = apps.get_model("treatments", "RedFlag")
    RedFlag.objects.filter(slug="new-weakness-or-numbness").update(screening_question=WEAKNESS)
    for flag in RedFlag.objects.filter(slug="saddle-numbness-bladder-bowel"):
        flag.screening_question = QUESTION
        if SOURCE_ADDED.strip() not in flag.source:
            flag.source = (flag.source + SOURCE_ADDED)[:300]
        flag.save(update_fields=["screening_question", "source"])


class Migration(migrations.Migration):
    dependencies = [("treatments", "0006_clinical_safety_review")]

    operations = [migrations.RunPython(reword, migrations.RunPython.noop)]
