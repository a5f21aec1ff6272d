"""The questionnaires and consent text the clinic starts with.

The three instruments are written for this product and need no licence (KOOS JR,
ODI and QuickDASH do, for commercial software; a clinic that holds one loads it in
the admin). The consent text covers what ../shared/DOMAIN.md says must be disclosed:
infection, bleeding, allergic reaction to processing solutions, that it may not work,
cost and insurance, and the regulatory status of cell-based options.
Frozen here so every fresh database gets the same rows.
"""

import hashlib

from django.db import migrations

NO_LICENCE = "Written by the clinic for this product; no licence needed."

INSTRUMENTS = [
    {
        "slug": "pain-nrs",
        "name": "Pain rating (0–10)",
        "instructions": "Pick one number for your pain on average over the last week.",
        "scoring": "single",
        "score_label": "0–10, lower is better",
        "higher_is_better": False,
        "items": ["Your pain on average over the last week"],
        "options": [
            (0, "0 – no pain"),
            *[(n, str(n)) for n in range(1, 10)],
            (10, "10 – worst pain imaginable"),
        ],
    },
    {
        "slug": "percent-of-normal",
        "name": "Percent of normal",
        "instructions": "100% means the painful area works as well as it ever did.",
        "scoring": "single",
        "score_label": "0–100%, higher is better",
        "higher_is_better": True,
        "items": ["Today, how close to normal is the painful area, as a percentage?"],
        "options": [(n, f"{n}%") for n in range(0, 101, 10)],
    },
    {
        "slug": "daily-activities",
        "name": "Daily activities",
        "instructions": (
            "How much difficulty does your pain give you with each of these? "
            "If you do not do one at all because of the pain, choose 'Unable to do'."
        ),
        "scoring": "inverted_percent",
        "score_label": "0–100, higher is better",
        "higher_is_better": True,
        "items": [
            "Walking for 15 minutes",
            "Going up or down a flight of stairs",
            "Getting up from a chair or out of a car",
            "Putting on shoes and socks",
            "Lifting or carrying a bag of groceries",
            "Reaching up to a high shelf",
            "Sleeping through the night without pain waking you",
            "Doing your usual work, housework or sport",
        ],
        "options": [
            (0, "No difficulty"),
            (1, "A little"),
            (2, "Some"),
            (3, "A lot"),
            (4, "Unable to do"),
        ],
    },
]

CONSENT_VERSION = "2026-11"
CONSENT_TITLE = "Consent to share this intake and acknowledgement of risks and costs"
CONSENT_BODY = """\
I confirm that what I have written in this intake is true and complete to the best of my knowledge, and I agree that the clinic's physicians and staff may use it to decide whether a consultation is right for me.

This intake is not a medical consultation and does not start any treatment. A physician will review it, may ask me for more information or imaging, and will tell me whether a consultation is suggested. No treatment is given without a separate consent at the clinic.

I understand that regenerative injections (dextrose prolotherapy, platelet-rich plasma, bone marrow or adipose cell concentrates, and allograft tissue) carry risks, including infection, bleeding or bruising, an allergic reaction to the solutions used to prepare them, temporary pain or swelling, and that the treatment may not work for me.

I understand that these treatments are usually not covered by health insurance, which often considers them experimental, that I am likely to pay for them myself, and that the cost ranges shown to me are estimates which the clinic will confirm before any treatment.

I understand that cell-based options (bone marrow, adipose and allograft) are not approved by the U.S. Food and Drug Administration for treating joint, tendon or spine conditions, and that their results vary.

I agree that typing my full name below is my electronic signature and has the same effect as a handwritten signature. The clinic keeps the time, the internet address it came from and the version of this text with my signature."""


def seed(apps, schema_editor):
    Instrument = apps.get_model("intake", "Instrument")
    InstrumentItem = apps.get_model("intake", "InstrumentItem")
    AnswerOption = apps.get_model("intake", "AnswerOption")
    ConsentDocument = apps.get_model("intake", "ConsentDocument")

    for order, data in enumerate(INSTRUMENTS, start=1):
        instrument, _ = Instrument.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "instructions": data["instructions"],
                "licence_note": NO_LICENCE,
                "scoring": data["scoring"],
                "score_label": data["score_label"],
                "higher_is_better": data["higher_is_better"],
                "display_order": order * 10,
            },
        )
        for position, text in enumerate(data["items"], start=1):
            InstrumentItem.objects.update_or_create(
                instrument=instrument, position=position, defaults={"text": text}
            )
        for position, (value, label) in enumerate(data["options"], start=1):
            AnswerOption.objects.update_or_create(
                instrument=instrument, position=position, defaults={"value": value, "label": label}
            )

    if not ConsentDocument.objects.filter(version=CONSENT_VERSION).exists():
        ConsentDocument.objects.update(is_current=False)
        ConsentDocument.objects.create(
            version=CONSENT_VERSION,
            title=CONSENT_TITLE,
            body=CONSENT_BODY,
            sha256=hashlib.sha256(CONSENT_BODY.encode()).hexdigest(),
            is_current=True,
        )


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
