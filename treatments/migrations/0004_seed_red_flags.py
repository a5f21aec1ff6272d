"""Red-flag symptoms asked at intake, and the priority each hard-stop rule raises.

Red flags are the classic warning signs of musculoskeletal care that need a doctor
promptly whatever treatment is later chosen; the wording is the clinic's own.
"""

from typing import Any

from django.db import migrations

URGENT, HIGH = 1, 2

RED_FLAGS = [
    {
        "slug": "hot-swollen-joint-with-fever",
        "name": "Fever with a hot, swollen joint",
        "screening_question": "Do you have a fever together with a joint that is hot, red "
        "and swollen?",
        "raises_priority": URGENT,
        "patient_advice": "A fever with a hot, swollen joint can be a joint infection, which "
        "needs treatment today. Please go to urgent care or an emergency department now; "
        "do not wait for our review.",
        "source": "Septic arthritis red flags (NICE CKS, Septic arthritis; EULAR).",
    },
    {
        "slug": "saddle-numbness-bladder-bowel",
        "name": "Back pain with numbness in the groin or bladder/bowel changes",
        "screening_question": "Since your back pain began, have you had numbness around the "
        "groin or buttocks, or new trouble controlling your bladder or bowels?",
        "raises_priority": URGENT,
        "patient_advice": "Numbness around the groin or new bladder or bowel trouble with back "
        "pain can mean a nerve is being pressed and needs emergency care. Please go to an "
        "emergency department now; do not wait for our review.",
        "source": "Cauda equina syndrome red flags (NICE CKS, Sciatica; NHS).",
    },
    {
        "slug": "new-weakness-or-numbness",
        "name": "New or worsening weakness or numbness",
        "screening_question": "Do you have new weakness or numbness in an arm or leg that is "
        "getting worse?",
        "raises_priority": URGENT,
        "patient_advice": "New or worsening weakness or numbness needs a doctor's assessment "
        "soon. Please call your doctor today or go to urgent care; do not wait for our review.",
        "source": "Progressive neurological deficit (NICE CKS, Low back pain without "
        "radiculopathy; Neck pain).",
    },
    {
        "slug": "injury-cannot-bear-weight",
        "name": "Recent injury, cannot bear weight or use the limb",
        "screening_question": "Did your pain start with a fall or injury in the last two weeks, "
        "and since then you cannot put weight on the leg or use the arm?",
        "raises_priority": URGENT,
        "patient_advice": "An injury you cannot put weight on or use may be a fracture. Please "
        "have it checked at urgent care or an emergency department today.",
        "source": "Ottawa ankle and knee rules (suspected fracture after injury).",
    },
    {
        "slug": "weight-loss-or-night-pain",
        "name": "Unexplained weight loss or constant night pain",
        "screening_question": "Have you lost weight without trying, or do you have pain that "
        "wakes you every night whatever position you lie in?",
        "raises_priority": HIGH,
        "patient_advice": "Thank you for telling us. A physician will look at this answer first "
        "and may ask you to see your own doctor.",
        "source": "Serious pathology red flags (NICE CKS, Low back pain; NG59).",
    },
]

HARD_STOP = "hard_stop"


def seed(apps: Any, schema_editor: Any) -> None:
    RedFlag = apps.get_model("treatments", "RedFlag")
    Contraindication = apps.get_model("treatments", "Contraindication")
    for order, data in enumerate(RED_FLAGS, start=1):
        RedFlag.objects.update_or_create(
            slug=data["slug"],
            defaults={
                **{k: v for k, v in data.items() if k != "slug"},
                "display_order": order * 10,
            },
        )
    # A hard stop needs a physician's decision before anything is booked.
    Contraindication.objects.filter(severity=HARD_STOP).update(raises_priority=HIGH)


class Migration(migrations.Migration):
    dependencies = [("treatments", "0003_red_flags_and_priority")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
