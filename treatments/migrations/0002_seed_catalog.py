"""The first catalog, from ../shared/DOMAIN.md and its source pages.

Frozen here on purpose: a data migration must give every fresh database the same
rows, whatever later code does. Clinics edit the rows in the admin afterwards.
ICD-10-CM codes are category codes; laterality and encounter are added when charting.
Cost ranges: the cell-based figure (USD 5,000-20,000 per cycle) is quoted in the
sources; the dextrose and PRP ranges are typical US self-pay prices, flagged in
cost_note for the clinic to confirm.
"""

from django.db import migrations

REGIONS = [
    ("knee", "Knee"),
    ("hip", "Hip"),
    ("spine", "Spine (neck and back)"),
    ("shoulder", "Shoulder"),
    ("elbow", "Elbow"),
    ("wrist-hand", "Wrist and hand"),
    ("ankle-foot", "Ankle and foot"),
    ("other", "Other or several areas"),
]

CELL_REGULATORY = (
    "Not approved by the U.S. FDA for treating joint, tendon or spine conditions. Offered "
    "as minimally manipulated, same-day autologous or donor tissue; results vary and "
    "insurers usually see it as experimental."
)

OPTIONS = [
    {
        "slug": "dextrose-prolotherapy",
        "name": "Hypertonic dextrose prolotherapy",
        "short_name": "Dextrose",
        "ladder_step": 1,
        "material_source": "Hypertonic dextrose (sugar) solution with local anaesthetic; no cells",
        "origin": "not_tissue",
        "is_cell_based": False,
        "typical_sessions": "Usually a series of injections a few weeks apart",
        "cost_min_usd": 150,
        "cost_max_usd": 500,
        "cost_unit": "per injection session",
        "cost_note": "Typical US self-pay range, not from the source pages: set your clinic's price.",
        "patient_description": (
            "A concentrated sugar solution injected where a ligament or tendon is injured. "
            "It starts a healing response. Usually the first treatment tried for soft-tissue injuries."
        ),
        "regulatory_note": (
            "Dextrose is an FDA-approved drug; its use for prolotherapy is off-label. "
            "Usually not covered by insurance."
        ),
    },
    {
        "slug": "prp",
        "name": "Platelet-rich plasma (PRP)",
        "short_name": "PRP",
        "ladder_step": 2,
        "material_source": "The patient's own blood, drawn and centrifuged to concentrate platelets",
        "origin": "autologous",
        "is_cell_based": False,
        "typical_sessions": "1 to 3 injections; also used after a bone-marrow injection",
        "cost_min_usd": 500,
        "cost_max_usd": 2500,
        "cost_unit": "per injection",
        "cost_note": "Typical US self-pay range, not from the source pages: set your clinic's price.",
        "patient_description": (
            "A small amount of your own blood is spun to concentrate the platelets and their "
            "growth factors, then injected under image guidance into the painful area."
        ),
        "regulatory_note": (
            "Prepared with FDA-cleared devices at the point of care; its use for joint and tendon "
            "pain is considered investigational by most insurers."
        ),
    },
    {
        "slug": "bone-marrow-stem-cells",
        "name": "Bone-marrow stem cells (BMAC)",
        "short_name": "Bone marrow",
        "ladder_step": 3,
        "material_source": (
            "Bone marrow aspirated from the back of the hip (posterior superior iliac crest) under "
            "local anaesthesia, then centrifuged or filtered"
        ),
        "origin": "autologous",
        "is_cell_based": True,
        "typical_sessions": "Usually one; advanced arthritis may need a repeat course in 1 to 3 years",
        "cost_min_usd": 5000,
        "cost_max_usd": 20000,
        "cost_unit": "per treatment cycle",
        "cost_note": "Range quoted in the source pages.",
        "patient_description": (
            "Cells taken from your own hip bone, concentrated and injected into the joint. "
            "Considered best for bone and cartilage problems, when dextrose and PRP are not enough."
        ),
        "regulatory_note": CELL_REGULATORY,
    },
    {
        "slug": "adipose-stem-cells",
        "name": "Adipose-derived stem cells (ADSC)",
        "short_name": "Adipose",
        "ladder_step": 4,
        "material_source": "Fat tissue taken from the abdomen by a small liposuction",
        "origin": "autologous",
        "is_cell_based": True,
        "typical_sessions": "Usually one; severe cases may need 2 to 3",
        "cost_min_usd": 5000,
        "cost_max_usd": 20000,
        "cost_unit": "per treatment cycle",
        "cost_note": "Range quoted in the source pages.",
        "patient_description": (
            "Cells taken from a small amount of your own belly fat, which holds many more of them "
            "than bone marrow does, and injected into the painful area."
        ),
        "regulatory_note": CELL_REGULATORY,
    },
    {
        "slug": "allograft",
        "name": "Allograft (placental or umbilical tissue)",
        "short_name": "Allograft",
        "ladder_step": 5,
        "material_source": (
            "Screened donor tissue from scheduled Caesarean births, minimally processed; not embryonic"
        ),
        "origin": "allogeneic",
        "is_cell_based": True,
        "typical_sessions": "Usually one; severe cases may need 2 to 3",
        "cost_min_usd": 5000,
        "cost_max_usd": 20000,
        "cost_unit": "per treatment cycle",
        "cost_note": "Range quoted in the source pages.",
        "patient_description": (
            "Tissue donated by healthy mothers after a planned Caesarean birth, screened and "
            "minimally processed. No harvesting procedure is needed on your side."
        ),
        "regulatory_note": (
            "Regulated as human cells and tissue products (HCT/Ps); not FDA-approved for "
            "orthopaedic conditions. Donors are screened for infections and antibodies."
        ),
    },
]

CONDITIONS = [
    ("knee-osteoarthritis", "Knee osteoarthritis", "knee", "M17"),
    ("hip-osteoarthritis", "Hip osteoarthritis", "hip", "M16"),
    ("shoulder-osteoarthritis", "Shoulder osteoarthritis", "shoulder", "M19.01"),
    ("chondral-defect", "Cartilage (chondral) defect", "knee", ""),
    ("rheumatoid-arthritis", "Rheumatoid arthritis", "other", "M06.9"),
    ("tendinitis", "Tendinitis or chronic tendon problem", "other", "M77.9"),
    ("patellar-tendinitis", "Patellar tendinitis (jumper's knee)", "knee", "M76.5"),
    ("achilles-tendinitis", "Achilles tendinitis", "ankle-foot", "M76.6"),
    ("ligament-injury", "Ligament injury", "other", ""),
    ("acl-tear", "ACL tear", "knee", "S83.51"),
    ("tennis-elbow", "Tennis elbow (lateral epicondylitis)", "elbow", "M77.1"),
    ("golfers-elbow", "Golfer's elbow (medial epicondylitis)", "elbow", "M77.0"),
    ("plantar-fasciitis", "Plantar fasciitis", "ankle-foot", "M72.2"),
    ("degenerative-disc-disease", "Degenerative disc disease", "spine", "M51.3"),
    ("muscle-strain", "Muscle strain or sports injury", "other", ""),
    ("fracture-non-union", "Fracture non-union", "other", "M84.1"),
    ("spinal-fusion-support", "Spinal fusion support", "spine", "Z98.1"),
]

ALL = ["dextrose-prolotherapy", "prp", "bone-marrow-stem-cells", "adipose-stem-cells", "allograft"]
BLOOD_AND_CELLS = ["prp", "bone-marrow-stem-cells", "adipose-stem-cells", "allograft"]
HARVESTS = ["prp", "bone-marrow-stem-cells", "adipose-stem-cells"]
PROTOCOL = "Clinic protocol for image-guided injections; review with the medical director"

CONTRAINDICATIONS = [
    {
        "slug": "infection",
        "name": "Active or systemic infection",
        "screening_question": "Do you have an infection now, a fever, or are you taking antibiotics?",
        "severity": "hard_stop",
        "options": ALL,
        "source": "DOMAIN.md: infection is a consent risk; no injection into or near an infection. "
        + PROTOCOL,
    },
    {
        "slug": "cancer",
        "name": "Cancer, active or under treatment",
        "screening_question": "Do you have cancer now, or are you being treated for cancer?",
        "severity": "hard_stop",
        "options": BLOOD_AND_CELLS,
        "source": "Growth factors and cell products are avoided with active malignancy. "
        + PROTOCOL,
    },
    {
        "slug": "blood-disorder",
        "name": "Blood or platelet disorder",
        "screening_question": "Do you have a bleeding, clotting or platelet disorder, or anaemia?",
        "severity": "hard_stop",
        "options": HARVESTS,
        "source": "DOMAIN.md: bleeding is a consent risk; PRP needs working platelets. " + PROTOCOL,
    },
    {
        "slug": "anticoagulant",
        "name": "Anticoagulant or antiplatelet medicine",
        "screening_question": "Do you take a blood thinner (for example warfarin, apixaban, rivaroxaban, clopidogrel or daily aspirin)?",
        "severity": "caution",
        "options": ALL,
        "source": "DOMAIN.md: anticoagulants matter for injections (bleeding risk). " + PROTOCOL,
    },
    {
        "slug": "nsaid",
        "name": "Regular NSAID use",
        "screening_question": "Do you take anti-inflammatory painkillers (for example ibuprofen, naproxen or diclofenac) most days?",
        "severity": "caution",
        "options": HARVESTS,
        "source": "DOMAIN.md: anti-inflammatories matter for injections; they blunt platelet function. "
        + PROTOCOL,
    },
    {
        "slug": "recent-steroid",
        "name": "Recent corticosteroid",
        "screening_question": "Have you had a steroid (cortisone) injection in the painful area in the last month, or taken steroid tablets in the last two weeks?",
        "severity": "caution",
        "options": ALL,
        "source": "Steroids suppress the healing response these treatments rely on. " + PROTOCOL,
    },
    {
        "slug": "pregnancy",
        "name": "Pregnancy",
        "screening_question": "Are you pregnant, or could you be?",
        "severity": "hard_stop",
        "options": ALL,
        "source": "Elective injections are deferred in pregnancy. " + PROTOCOL,
    },
    {
        "slug": "uncontrolled-diabetes",
        "name": "Uncontrolled diabetes",
        "screening_question": "Do you have diabetes that is not well controlled (for example a recent HbA1c above 8%)?",
        "severity": "caution",
        "options": ALL,
        "source": "Raises infection risk and slows healing; dextrose raises blood sugar. "
        + PROTOCOL,
    },
    {
        "slug": "immunosuppressant",
        "name": "Immunosuppressant medicine",
        "screening_question": "Do you take medicines that weaken the immune system (for example after a transplant, or for rheumatoid arthritis)?",
        "severity": "caution",
        "options": BLOOD_AND_CELLS,
        "source": "Raises infection risk and may reduce the response to cell-based treatment. "
        + PROTOCOL,
    },
    {
        "slug": "local-anaesthetic-allergy",
        "name": "Allergy to local anaesthetic",
        "screening_question": "Have you ever had an allergic reaction to a local anaesthetic (for example lidocaine at the dentist)?",
        "severity": "caution",
        "options": ALL,
        "source": "DOMAIN.md: allergic reaction is a consent risk; injections use local anaesthetic. "
        + PROTOCOL,
    },
]


def seed(apps, schema_editor):
    BodyRegion = apps.get_model("treatments", "BodyRegion")
    TreatmentOption = apps.get_model("treatments", "TreatmentOption")
    Condition = apps.get_model("treatments", "Condition")
    Contraindication = apps.get_model("treatments", "Contraindication")

    regions = {}
    for order, (slug, name) in enumerate(REGIONS, start=1):
        regions[slug], _ = BodyRegion.objects.update_or_create(
            slug=slug, defaults={"name": name, "display_order": order * 10}
        )
    options = {}
    for data in OPTIONS:
        options[data["slug"]], _ = TreatmentOption.objects.update_or_create(
            slug=data["slug"], defaults={k: v for k, v in data.items() if k != "slug"}
        )
    for slug, name, region, code in CONDITIONS:
        Condition.objects.update_or_create(
            slug=slug, defaults={"name": name, "body_region": regions[region], "icd10_code": code}
        )
    for order, data in enumerate(CONTRAINDICATIONS, start=1):
        rule, _ = Contraindication.objects.update_or_create(
            slug=data["slug"],
            defaults={
                "name": data["name"],
                "screening_question": data["screening_question"],
                "severity": data["severity"],
                "source": data["source"],
                "display_order": order * 10,
            },
        )
        rule.options.set([options[slug] for slug in data["options"]])


class Migration(migrations.Migration):
    dependencies = [("treatments", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
