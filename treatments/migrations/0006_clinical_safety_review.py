"""The clinical safety review of the catalog (issue 18), as data.

Frozen here on purpose, like ``0002``: every fresh database gets the same rows. Each
rule names the published source it rests on; where none exists the source says so
("Clinic protocol; review with the medical director"). No source names a file of ours.

- Red flags: a septic joint is asked with or without fever (Coakley et al. 2006);
  sudden weakness or numbness of the face, an arm or a leg, or trouble speaking, is a
  stroke warning and says "call 911"; worsening limb weakness with spine pain goes to
  the emergency department; the spinal red flags for infection, malignancy and
  fracture are added.
- Rules: the blood-disorder rule is split into three; cancer is a relative
  contraindication (a caution, Le & DeBerardino 2018), with past blood or bone cancer
  asked before a marrow harvest; NSAIDs and immunosuppressants cover dextrose; tobacco,
  breastfeeding and a joint replacement at the site are asked.
- Conditions: ICD-10-CM codes corrected (every one is checked against the code set by
  ``tests/treatments/test_icd10.py``) and the billable code per side where one exists.
- Options: no weight-based dose anywhere, what is true of each option's regulation,
  non-promissory descriptions, and each option's own clinic-set price.
"""

from typing import Any

from django.db import migrations

URGENT, HIGH, ROUTINE = 1, 2, 3
HARD_STOP, CAUTION = "hard_stop", "caution"

PROTOCOL = "Clinic protocol; review with the medical director"
LE_2018 = (
    "Le QD, DeBerardino TM. Contraindications for PRP knee injections. Medscape, updated 9 Aug 2018"
)
SPINE_RED_FLAGS = (
    "Chou R et al. Diagnosis and treatment of low back pain: ACP/APS guideline. "
    "Ann Intern Med 2007;147:478-491; Downie A et al. BMJ 2013;347:f7095"
)

RED_FLAGS: list[dict[str, Any]] = [
    {
        "slug": "sudden-weakness-face-arm-leg-speech",
        "name": "Sudden weakness or numbness of the face, an arm or a leg, or trouble speaking",
        "screening_question": "Have you suddenly had weakness or numbness of your face, an arm "
        "or a leg, or trouble speaking or understanding speech?",
        "raises_priority": URGENT,
        "patient_advice": "Sudden weakness or numbness of the face, an arm or a leg, or "
        "trouble speaking, can be a stroke. Call 911 now; do not drive yourself and do not "
        "wait for our review.",
        "source": "Powers WJ et al. 2019 AHA/ASA guidelines for the early management of acute "
        "ischemic stroke. Stroke 2019;50:e344-e418 (stroke symptoms: call 911 at once).",
    },
    {
        # The slug stays: answers already given point at this row.
        "slug": "hot-swollen-joint-with-fever",
        "name": "A joint that became hot, swollen and very painful",
        "screening_question": "Over the last hours or days, has a joint become hot, swollen "
        "and very painful, with or without a fever? (This matters even more after an "
        "injection into that joint, or if it is a joint replacement.)",
        "raises_priority": URGENT,
        "patient_advice": "A joint that becomes hot, swollen and very painful over hours or "
        "days can be a joint infection, with or without a fever, and more so after an "
        "injection into the joint or in a joint replacement. Please go to the emergency "
        "department now; do not wait for our review.",
        "source": "Coakley G et al. BSR & BHPR, BOA, RCGP and BSAC guidelines for management "
        "of the hot swollen joint in adults. Rheumatology (Oxford) 2006;45:1039-1041.",
    },
    {
        "slug": "saddle-numbness-bladder-bowel",
        "source": "Cauda equina syndrome red flags: NICE Clinical Knowledge Summaries, "
        "Sciatica (lumbar radiculopathy).",
    },
    {
        "slug": "new-weakness-or-numbness",
        "name": "Arm or leg weakness getting worse, with back or neck pain",
        "screening_question": "With your back or neck pain, is an arm or a leg getting weaker "
        "(for example your foot drags, your knee gives way or your grip fails)?",
        "raises_priority": URGENT,
        "patient_advice": "Weakness of an arm or a leg that is getting worse with back or "
        "neck pain can mean a nerve or the spinal cord is being pressed, which needs "
        "emergency care. Please go to the emergency department now; do not wait for our "
        "review.",
        "source": "Progressive neurological deficit: NICE Clinical Knowledge Summaries, "
        "Sciatica (lumbar radiculopathy); " + SPINE_RED_FLAGS + ".",
    },
    {
        "slug": "spine-pain-with-fever",
        "name": "Fever or chills with back or neck pain",
        "screening_question": "Do you have a fever or chills together with your back or neck pain?",
        "raises_priority": URGENT,
        "patient_advice": "A fever or chills with back or neck pain can be an infection in the "
        "spine, which needs treatment soon. Please see a doctor today, at urgent care or an "
        "emergency department; do not wait for our review.",
        "source": "Spinal infection red flags: " + SPINE_RED_FLAGS + ".",
    },
    {
        "slug": "injury-cannot-bear-weight",
        "source": "Ottawa ankle and knee rules: Stiell IG et al. JAMA 1993;269:1127-1132; "
        "Stiell IG et al. JAMA 1997;278:2075-2079.",
    },
    {
        "slug": "spine-pain-after-minor-injury-fragile-bones",
        "name": "Back pain after a minor injury, with osteoporosis or long-term steroids",
        "screening_question": "Did your back or neck pain start after a minor fall or strain, "
        "and do you have osteoporosis (thin bones) or have you taken steroid tablets for more "
        "than three months?",
        "raises_priority": HIGH,
        "patient_advice": "After a minor injury, thin bones or long-term steroids can lead to "
        "a fracture of the spine. A physician will look at this answer first; if the pain is "
        "severe or getting worse, please see a doctor today.",
        "source": "Spinal fracture red flags: " + SPINE_RED_FLAGS + ".",
    },
    {
        "slug": "spine-pain-with-cancer-history",
        "name": "New back or neck pain with a history of cancer",
        "screening_question": "Have you ever had cancer, and is your back or neck pain new "
        "since then?",
        "raises_priority": HIGH,
        "patient_advice": "Thank you for telling us. A physician will look at this answer "
        "first and may ask you to see your own doctor or your cancer team soon.",
        "source": "Spinal malignancy red flags: " + SPINE_RED_FLAGS + ".",
    },
    {
        "slug": "spine-pain-with-infection-risk",
        "name": "Back or neck pain with injecting drug use or a weakened immune system",
        "screening_question": "Do you have back or neck pain and either inject drugs, or have "
        "an illness or take medicines that weaken the immune system?",
        "raises_priority": HIGH,
        "patient_advice": "Thank you for telling us. A physician will look at this answer "
        "first. If you also have a fever or chills, please see a doctor today.",
        "source": "Spinal infection red flags: " + SPINE_RED_FLAGS + ".",
    },
    {
        "slug": "weight-loss-or-night-pain",
        "source": "Serious pathology red flags: " + SPINE_RED_FLAGS + ".",
    },
]

ALL = ["dextrose-prolotherapy", "prp", "bone-marrow-stem-cells", "adipose-stem-cells", "allograft"]
HARVESTS = ["prp", "bone-marrow-stem-cells", "adipose-stem-cells"]

# In screening order; rules not listed keep their place after these.
CONTRAINDICATIONS: list[dict[str, Any]] = [
    {
        "slug": "infection",
        "source": LE_2018 + " (absolute: active infection, septicemia, infection at the site).",
    },
    {
        "slug": "platelet-disorder",
        "name": "Platelet dysfunction or critically low platelets",
        "screening_question": "Have you been told you have a platelet disorder, or a very low "
        "platelet count?",
        "severity": HARD_STOP,
        "raises_priority": HIGH,
        "options": ["prp", "bone-marrow-stem-cells"],
        "source": LE_2018 + " (absolute: platelet dysfunction syndrome, critical "
        "thrombocytopenia).",
    },
    {
        "slug": "bleeding-disorder",
        "name": "Hemophilia or von Willebrand disease",
        "screening_question": "Do you have hemophilia, von Willebrand disease or another "
        "inherited bleeding disorder?",
        "severity": CAUTION,
        "raises_priority": ROUTINE,
        "options": ALL,
        "source": PROTOCOL + " (every injection needs a plan for bleeding).",
    },
    {
        "slug": "anemia-or-low-platelets",
        "name": "Anemia or a low platelet count",
        "screening_question": "Have you been told you have anemia (a low blood count) or a low "
        "platelet count?",
        "severity": CAUTION,
        "raises_priority": ROUTINE,
        "options": HARVESTS,
        "source": LE_2018 + " (relative: hemoglobin below 10 g/dL, platelets below "
        "100,000 per microliter).",
    },
    {
        "slug": "cancer",
        "name": "Cancer, active or under treatment",
        "severity": CAUTION,
        "raises_priority": ROUTINE,
        "source": LE_2018 + " (relative: cancer, particularly of bone or blood). Decided for "
        "this catalog: a caution for the physician, not a hard stop.",
    },
    {
        "slug": "past-blood-or-bone-cancer",
        "name": "Past blood or bone cancer",
        "screening_question": "Have you ever had a blood cancer (such as leukemia, lymphoma or "
        "myeloma), or a cancer in or spread to the bones?",
        "severity": CAUTION,
        "raises_priority": ROUTINE,
        "options": ["prp", "bone-marrow-stem-cells"],
        "source": LE_2018 + " (relative: cancer, particularly of bone or blood); asked before "
        "a bone-marrow harvest.",
    },
    {
        "slug": "anticoagulant",
        "source": PROTOCOL + " (bleeding risk; blood thinners only with the prescribing "
        "doctor's agreement).",
    },
    {
        "slug": "nsaid",
        "options": ["dextrose-prolotherapy", *HARVESTS],
        "source": LE_2018 + " (relative: NSAIDs within 48 h); Schippinger G et al. Orthop J "
        "Sports Med 2015;3(6):2325967115588896. Dextrose: " + PROTOCOL + ".",
    },
    {
        "slug": "recent-steroid",
        "source": LE_2018 + " (relative: steroid injection at the site within 1 month, "
        "systemic steroids within 2 weeks).",
    },
    {
        "slug": "pregnancy",
        "source": PROTOCOL + " (elective injections are deferred in pregnancy).",
    },
    {
        "slug": "breastfeeding",
        "name": "Breastfeeding",
        "screening_question": "Are you breastfeeding?",
        "severity": CAUTION,
        "raises_priority": ROUTINE,
        "options": ALL,
        "source": PROTOCOL + " (local anesthetics and other medicines used may pass into "
        "breast milk).",
    },
    {
        "slug": "uncontrolled-diabetes",
        "source": PROTOCOL + " (infection risk and healing; dextrose raises blood sugar).",
    },
    {
        "slug": "immunosuppressant",
        "options": ALL,
        "source": PROTOCOL + " (infection risk; may reduce the response to treatment).",
    },
    {
        "slug": "tobacco",
        "name": "Tobacco or nicotine use",
        "screening_question": "Do you smoke, or use tobacco or nicotine products?",
        "severity": CAUTION,
        "raises_priority": ROUTINE,
        "options": ALL,
        "source": LE_2018 + " (relative: tobacco use).",
    },
    {
        "slug": "joint-replacement-at-site",
        "name": "Joint replacement at the injection site",
        "screening_question": "Do you have a joint replacement (an artificial joint) in the "
        "area that hurts?",
        "severity": HARD_STOP,
        "raises_priority": HIGH,
        "options": ALL,
        "source": PROTOCOL + " (an injection into or next to a joint replacement risks "
        "infecting it; Coakley G et al. Rheumatology 2006;45:1039-1041).",
    },
    {
        "slug": "local-anaesthetic-allergy",
        "name": "Allergy to local anesthetic",
        "screening_question": "Have you ever had an allergic reaction to a local anesthetic "
        "(for example lidocaine at the dentist)?",
        "source": PROTOCOL + " (the injections use a local anesthetic).",
    },
]

# Replaced by the three rules above; kept (inactive) for the flags already raised.
RETIRED_RULES = ["blood-disorder"]

# slug: (name or None to keep it, category code, {side: billable code})
CONDITIONS: dict[str, tuple[str | None, str, dict[str, str]]] = {
    "knee-osteoarthritis": (None, "M17", {"right": "M17.11", "left": "M17.12", "both": "M17.0"}),
    "hip-osteoarthritis": (None, "M16", {"right": "M16.11", "left": "M16.12", "both": "M16.0"}),
    "shoulder-osteoarthritis": (None, "M19.01", {"right": "M19.011", "left": "M19.012"}),
    # Chondromalacia of the knee; a traumatic tear (S83.3-) or osteochondritis
    # dissecans (M93.26-) is coded by the physician when charting.
    "chondral-defect": (None, "M94.26", {"right": "M94.261", "left": "M94.262"}),
    "rheumatoid-arthritis": (
        None,
        "M06.9",
        {"right": "M06.9", "left": "M06.9", "both": "M06.9", "na": "M06.9"},
    ),
    "tendinitis": (
        None,
        "M77.9",
        {"right": "M77.9", "left": "M77.9", "both": "M77.9", "na": "M77.9"},
    ),
    "patellar-tendinitis": (None, "M76.5", {"right": "M76.51", "left": "M76.52"}),
    "achilles-tendinitis": (None, "M76.6", {"right": "M76.61", "left": "M76.62"}),
    "ligament-injury": (None, "", {}),
    # A chronic ACL tear; S83.51- is an acute sprain with a 7th character.
    "acl-tear": ("ACL tear (chronic)", "M23.61", {"right": "M23.611", "left": "M23.612"}),
    "tennis-elbow": (None, "M77.1", {"right": "M77.11", "left": "M77.12"}),
    "golfers-elbow": (None, "M77.0", {"right": "M77.01", "left": "M77.02"}),
    "plantar-fasciitis": (
        None,
        "M72.2",
        {"right": "M72.2", "left": "M72.2", "both": "M72.2", "na": "M72.2"},
    ),
    # M51.3- excludes the neck; since October 2024 the lumbar code needs a 6th
    # character (back pain, leg pain, both or neither) that the physician sets.
    "degenerative-disc-disease": ("Degenerative disc disease, lower back", "M51.36", {}),
    "degenerative-disc-disease-neck": (
        "Degenerative disc disease, neck",
        "M50.3",
        {"na": "M50.30"},
    ),
    "muscle-strain": (None, "", {}),
    # M84.1 is not an ICD-10-CM code: a non-union is the fracture's own code with the
    # 7th character K, which needs the bone and the side.
    "fracture-non-union": (None, "", {}),
    # Z98.1 is "arthrodesis status"; a fusion that has not healed is M96.0.
    "spinal-fusion-support": ("Spinal fusion that has not healed", "M96.0", {"na": "M96.0"}),
}

OPTIONS: dict[str, dict[str, Any]] = {
    "dextrose-prolotherapy": {
        "material_source": "Hypertonic dextrose (sugar) solution with a local anesthetic; no cells",
        "is_cell_based": False,
        "cost_min_usd": 150,
        "cost_max_usd": 450,
        "cost_unit": "per injection session",
        "cost_note": "Demo price set by the clinic, not a published figure: each clinic sets "
        "its own.",
        "patient_description": "A concentrated sugar (dextrose) solution injected where a "
        "ligament or tendon is injured. It is thought to start a local healing response. It "
        "is often the first treatment tried for soft-tissue injuries.",
        "regulatory_note": "Dextrose is an FDA-approved drug; injecting it for prolotherapy "
        "is an off-label use, which the FDA has not reviewed for these conditions. Usually "
        "not covered by insurance.",
    },
    "prp": {
        "is_cell_based": False,
        "cost_min_usd": 600,
        "cost_max_usd": 1800,
        "cost_unit": "per injection",
        "cost_note": "Demo price set by the clinic, not a published figure: each clinic sets "
        "its own.",
        "patient_description": "A small amount of your own blood is spun to concentrate the "
        "platelets, which carry growth factors, and injected under image guidance into the "
        "painful area. It is thought to support healing; results vary.",
        "regulatory_note": "PRP is prepared with FDA-cleared devices at the point of care; "
        "injecting it into joints, tendons or the spine is an off-label use that the FDA has "
        "not approved. Most insurers consider it investigational.",
    },
    "bone-marrow-stem-cells": {
        "name": "Bone-marrow concentrate (BMAC)",
        "material_source": "Bone marrow aspirated from the back of the hip (posterior superior "
        "iliac crest) under local anesthetic, then centrifuged or filtered on the same day; "
        "not culture-expanded",
        "is_cell_based": True,
        "cost_min_usd": 3500,
        "cost_max_usd": 7500,
        "cost_unit": "per treatment",
        "cost_note": "Demo price set by the clinic. For context only, not our price: a survey "
        "of US clinics found a mean of about USD 5,156 (range 1,150-12,000) per knee "
        "injection (Piuzzi NS et al. J Knee Surg 2018;31:551-556).",
        "patient_description": "Bone marrow taken from the back of your own hip bone under a "
        "local anesthetic, concentrated and injected into the painful area on the same day. "
        "It is sometimes considered when dextrose and PRP have not helped; results vary.",
        "regulatory_note": "Your own bone marrow, minimally processed and returned on the same "
        "day. It is not approved by the FDA for treating joint, tendon or spine conditions, "
        "and how many stem cells it holds cannot be counted at the time of treatment. "
        "Insurers usually consider it experimental.",
    },
    "adipose-stem-cells": {
        "name": "Adipose (fat) tissue injection",
        "material_source": "Fat tissue taken from the abdomen by a small liposuction under "
        "local anesthetic, washed and filtered on the same day; not processed to isolate "
        "cells",
        "is_cell_based": True,
        "cost_min_usd": 4000,
        "cost_max_usd": 8500,
        "cost_unit": "per treatment",
        "cost_note": "Demo price set by the clinic. For context only, not our price: a survey "
        "of US clinics found a mean of about USD 5,156 (range 1,150-12,000) per knee "
        "injection (Piuzzi NS et al. J Knee Surg 2018;31:551-556).",
        "patient_description": "A small amount of your own belly fat is taken by a small "
        "liposuction under a local anesthetic, washed and injected into the painful area on "
        "the same day. It is sometimes considered when dextrose and PRP have not helped; "
        "results vary.",
        "regulatory_note": "Your own fat, minimally processed and returned on the same day. "
        "Fat processed to isolate its cells (the stromal vascular fraction) counts as a drug "
        "that needs FDA approval (United States v. US Stem Cell Clinic, 11th Cir. 2021); "
        "this option is not processed that way. It is not approved by the FDA for these "
        "conditions; insurers usually consider it experimental.",
    },
    "allograft": {
        "name": "Allograft (placental or umbilical tissue)",
        "material_source": "Donor tissue from the placenta or umbilical cord after scheduled "
        "Cesarean births, screened and processed; not embryonic",
        "is_cell_based": False,
        "cost_min_usd": 2000,
        "cost_max_usd": 4500,
        "cost_unit": "per treatment",
        "cost_note": "Demo price set by the clinic, not a published figure: each clinic sets "
        "its own.",
        "patient_description": "Tissue from the placenta or umbilical cord of screened donors "
        "after a planned Cesarean birth, processed and injected into the painful area. No "
        "tissue is taken from you. Results vary.",
        "regulatory_note": "Donor tissue, not a living-cell treatment: products of this kind "
        "tested by the FDA contained no living stem cells. The FDA holds that amniotic, "
        "umbilical-cord and Wharton's-jelly products for orthopedic use need FDA approval or "
        "an investigational new drug application (its enforcement discretion ended on May "
        "31, 2021); none is approved for joint, tendon or spine conditions. Usually not "
        "covered by insurance.",
    },
}


def review(apps: Any, schema_editor: Any) -> None:
    RedFlag = apps.get_model("treatments", "RedFlag")
    Contraindication = apps.get_model("treatments", "Contraindication")
    Condition = apps.get_model("treatments", "Condition")
    ConditionCode = apps.get_model("treatments", "ConditionCode")
    BodyRegion = apps.get_model("treatments", "BodyRegion")
    TreatmentOption = apps.get_model("treatments", "TreatmentOption")

    for order, data in enumerate(RED_FLAGS, start=1):
        fields = {k: v for k, v in data.items() if k != "slug"}
        RedFlag.objects.update_or_create(
            slug=data["slug"], defaults={**fields, "display_order": order * 10}
        )

    options = {o.slug: o for o in TreatmentOption.objects.all()}
    for slug, fields in OPTIONS.items():
        TreatmentOption.objects.filter(slug=slug).update(**fields)

    Contraindication.objects.filter(slug__in=RETIRED_RULES).update(
        is_active=False,
        source=LE_2018 + "; " + PROTOCOL + " (replaced by three rules in 2026-12).",
    )
    listed = [data["slug"] for data in CONTRAINDICATIONS]
    later = Contraindication.objects.exclude(slug__in=listed).order_by("display_order")
    for order, data in enumerate(CONTRAINDICATIONS, start=1):
        fields = {k: v for k, v in data.items() if k not in ("slug", "options")}
        rule, _ = Contraindication.objects.update_or_create(
            slug=data["slug"], defaults={**fields, "display_order": order * 10}
        )
        if "options" in data:
            rule.options.set([options[slug] for slug in data["options"]])
    for order, rule in enumerate(later, start=len(CONTRAINDICATIONS) + 1):
        rule.display_order = order * 10
        rule.save(update_fields=["display_order"])

    spine = BodyRegion.objects.get(slug="spine")
    for slug, (name, category, by_side) in CONDITIONS.items():
        defaults: dict[str, Any] = {"icd10_code": category}
        if name is not None:
            defaults["name"] = name
        condition, created = Condition.objects.get_or_create(
            slug=slug, defaults={**defaults, "body_region": spine}
        )
        if not created:
            Condition.objects.filter(pk=condition.pk).update(**defaults)
        ConditionCode.objects.filter(condition=condition).exclude(side__in=by_side).delete()
        for side, code in by_side.items():
            ConditionCode.objects.update_or_create(
                condition=condition, side=side, defaults={"code": code}
            )


class Migration(migrations.Migration):
    dependencies = [("treatments", "0005_condition_codes")]

    operations = [migrations.RunPython(review, migrations.RunPython.noop)]
