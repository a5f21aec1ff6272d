"""The first pre-procedure instruction templates, from the published examples in
../shared/DOMAIN.md ("Medicines before an injection"). They vary by clinic and are
the physician's decision: none reaches a patient until a physician approves it for
that patient's procedure. Idempotent (the test suite re-runs it after a flush)."""

from typing import Any

from django.db import migrations

NSAID_SOURCE = (
    "Published examples: NSAIDs stopped 3-7 days before PRP (Schippinger G et al. Orthop J "
    "Sports Med 2015;3(6):2325967115588896); clinic protocol"
)
STEROID_SOURCE = (
    "Le QD, DeBerardino TM. Contraindications for PRP knee injections. Medscape, 2018 "
    "(steroid injections avoided 4-6 weeks before)"
)
CLINIC = "Clinic protocol; review with the medical director"
CELL_OPTIONS = ("prp", "bone-marrow-stem-cells", "adipose-stem-cells")

TEMPLATES: list[tuple[tuple[str, ...], int, str, str]] = [
    (
        CELL_OPTIONS,
        -7,
        "do not take ibuprofen, naproxen, aspirin for pain or other anti-inflammatory "
        "medicines; paracetamol (acetaminophen) is fine.",
        NSAID_SOURCE,
    ),
    (
        CELL_OPTIONS,
        -42,
        "please do not have a steroid (cortisone) injection; tell us if one is planned.",
        STEROID_SOURCE,
    ),
    (
        (*CELL_OPTIONS, "dextrose-prolotherapy", "allograft"),
        -7,
        "if you take a blood thinner, change it only as your prescribing doctor agrees.",
        CLINIC,
    ),
    (
        ("bone-marrow-stem-cells", "adipose-stem-cells"),
        0,
        "arrive with someone who can drive you home after the harvest.",
        CLINIC,
    ),
]


def seed(apps: Any, schema_editor: Any) -> None:
    InstructionTemplate = apps.get_model("care", "InstructionTemplate")
    TreatmentOption = apps.get_model("treatments", "TreatmentOption")
    options = {option.slug: option for option in TreatmentOption.objects.all()}
    for order, (slugs, days, text, source) in enumerate(TEMPLATES, start=1):
        for slug in slugs:
            if slug in options:
                InstructionTemplate.objects.get_or_create(
                    option=options[slug],
                    text=text,
                    defaults={
                        "days_from_procedure": days,
                        "source": source,
                        "display_order": order * 10,
                    },
                )


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0003_procedure_instructions"),
        ("treatments", "0002_seed_catalog"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
