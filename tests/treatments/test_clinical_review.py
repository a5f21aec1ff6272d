"""The clinical safety review of the catalog (issue 18): red flags that send an
emergency the right way, rules as the published sources state them, and
patient-facing text that promises nothing and never gives a weight-based dose."""

import re

import pytest

from treatments.models import Contraindication, Priority, RedFlag, TreatmentOption

EVERY_OPTION = {
    "dextrose-prolotherapy",
    "prp",
    "bone-marrow-stem-cells",
    "adipose-stem-cells",
    "allograft",
}


def rule(slug: str) -> Contraindication:
    return Contraindication.objects.prefetch_related("options").get(slug=slug)


def options_of(slug: str) -> set[str]:
    return {o.slug for o in rule(slug).options.all()}


def test_a_septic_joint_is_asked_with_or_without_fever_and_goes_to_the_emergency_department(db):
    flag = RedFlag.objects.get(slug="hot-swollen-joint-with-fever", is_active=True)
    question = flag.screening_question.lower()
    assert "with or without a fever" in question
    assert "hot, swollen and very painful" in question
    assert "hours or days" in question
    # A recent injection into the joint or a joint replacement raises the risk.
    assert "injection" in question and "joint replacement" in question
    assert "go to the emergency department now" in flag.patient_advice
    assert flag.raises_priority == Priority.URGENT
    assert "Rheumatology" in flag.source and "2006;45:1039" in flag.source


def test_sudden_weakness_or_trouble_speaking_says_call_911(db):
    stroke = [
        f
        for f in RedFlag.objects.filter(is_active=True)
        if "suddenly" in f.screening_question.lower()
        and "trouble speaking" in f.screening_question.lower()
    ]
    assert len(stroke) == 1
    flag = stroke[0]
    for part in ("face", "an arm", "a leg", "weakness or numbness"):
        assert part in flag.screening_question
    assert "Call 911 now" in flag.patient_advice
    assert "urgent care" not in flag.patient_advice
    assert flag.raises_priority == Priority.URGENT


def test_worsening_leg_weakness_with_back_pain_goes_to_the_emergency_department(db):
    flag = RedFlag.objects.get(slug="new-weakness-or-numbness", is_active=True)
    assert "back" in flag.screening_question and "leg" in flag.screening_question
    assert "weaker" in flag.screening_question
    assert "go to the emergency department now" in flag.patient_advice
    assert "call your doctor" not in flag.patient_advice.lower()
    assert flag.raises_priority == Priority.URGENT


@pytest.mark.parametrize(
    ("slug", "words", "priority"),
    [
        ("spine-pain-with-fever", ("fever or chills", "back or neck pain"), Priority.URGENT),
        ("spine-pain-with-infection-risk", ("inject drugs", "immune system"), Priority.HIGH),
        ("spine-pain-with-cancer-history", ("cancer", "back or neck pain new"), Priority.HIGH),
        (
            "spine-pain-after-minor-injury-fragile-bones",
            ("minor fall", "osteoporosis", "steroid tablets"),
            Priority.HIGH,
        ),
    ],
)
def test_the_spinal_red_flags_for_infection_malignancy_and_fracture(db, slug, words, priority):
    flag = RedFlag.objects.get(slug=slug, is_active=True)
    for word in words:
        assert word in flag.screening_question
    assert flag.raises_priority == priority
    assert "Ann Intern Med 2007" in flag.source


def test_the_blood_disorder_rule_is_three_rules(db):
    assert not Contraindication.objects.get(slug="blood-disorder").is_active
    platelets = rule("platelet-disorder")
    assert platelets.severity == Contraindication.Severity.HARD_STOP
    assert options_of("platelet-disorder") == {"prp", "bone-marrow-stem-cells"}
    assert "Le QD, DeBerardino TM" in platelets.source
    bleeding = rule("bleeding-disorder")
    assert "hemophilia" in bleeding.screening_question
    assert "von Willebrand" in bleeding.screening_question
    assert options_of("bleeding-disorder") == EVERY_OPTION
    assert bleeding.source.startswith("Clinic protocol; review with the medical director")
    anemia = rule("anemia-or-low-platelets")
    assert anemia.severity == Contraindication.Severity.CAUTION
    assert "10 g/dL" in anemia.source and "100,000" in anemia.source
    assert "Le QD, DeBerardino TM" in anemia.source


def test_nsaids_and_immunosuppressants_cover_dextrose(db):
    assert "dextrose-prolotherapy" in options_of("nsaid")
    assert "dextrose-prolotherapy" in options_of("immunosuppressant")
    assert "Schippinger" in rule("nsaid").source


def test_cancer_is_a_relative_contraindication_with_its_source(db):
    cancer = rule("cancer")
    assert cancer.severity == Contraindication.Severity.CAUTION
    assert "relative" in cancer.source and "Le QD, DeBerardino TM" in cancer.source
    past = rule("past-blood-or-bone-cancer")
    assert "bone-marrow-stem-cells" in options_of("past-blood-or-bone-cancer")
    assert "leukemia" in past.screening_question


@pytest.mark.parametrize(
    ("slug", "severity"),
    [
        ("tobacco", Contraindication.Severity.CAUTION),
        ("breastfeeding", Contraindication.Severity.CAUTION),
        ("joint-replacement-at-site", Contraindication.Severity.HARD_STOP),
    ],
)
def test_the_added_screening_rules(db, slug, severity):
    added = rule(slug)
    assert added.is_active and added.severity == severity
    assert added.screening_question.endswith("?")
    assert options_of(slug) == EVERY_OPTION


def test_no_catalog_source_names_a_file_of_ours(db):
    sources = [*Contraindication.objects.values_list("source", flat=True)]
    sources += RedFlag.objects.values_list("source", flat=True)
    assert sources
    for source in sources:
        assert source.strip()
        assert ".md" not in source, source
        assert "DOMAIN" not in source, source


def patient_text() -> list[tuple[str, str]]:
    """Every catalog text a patient reads."""
    texts: list[tuple[str, str]] = []
    for option in TreatmentOption.objects.all():
        for field in (
            "name",
            "short_name",
            "material_source",
            "typical_sessions",
            "cost_unit",
            "patient_description",
            "regulatory_note",
        ):
            texts.append((f"{option.slug}.{field}", getattr(option, field)))
    for row in Contraindication.objects.filter(is_active=True):
        texts += [(f"{row.slug}.name", row.name), (f"{row.slug}.q", row.screening_question)]
    for flag in RedFlag.objects.filter(is_active=True):
        texts += [(f"{flag.slug}.q", flag.screening_question), (flag.slug, flag.patient_advice)]
    return texts


@pytest.mark.parametrize(
    "pattern",
    [
        r"per kg",
        r"body weight",
        r"dosed",
        r"million cells",
        r"\bbest\b",
        r"many more",
        r"\brelief\b",
        r"\bcures?\b",
        r"without surgery",
        r"no risk",
        # US spelling
        r"anaesthe",
        r"anaemi",
        r"haem",
        r"caesarean",
        r"orthopaedic",
        r"\bcentre\b",
    ],
)
def test_patient_facing_catalog_text_is_non_promissory_us_english_and_weight_free(db, pattern):
    for where, text in patient_text():
        assert not re.search(pattern, text, re.IGNORECASE), (where, text)


def test_each_option_says_what_is_true_of_its_regulation(db):
    notes = dict(TreatmentOption.objects.values_list("slug", "regulatory_note"))
    assert "off-label" in notes["dextrose-prolotherapy"]
    assert "off-label" in notes["prp"]
    assert "donor" not in notes["bone-marrow-stem-cells"].lower()
    assert "US Stem Cell Clinic, 11th Cir. 2021" in notes["adipose-stem-cells"]
    allograft = notes["allograft"]
    assert "investigational new drug application" in allograft
    assert "May 31, 2021" in allograft
    assert "no living stem cells" in allograft
    assert not TreatmentOption.objects.get(slug="allograft").is_cell_based


def test_each_option_has_its_own_clinic_set_price(db):
    ranges = list(TreatmentOption.objects.values_list("cost_min_usd", "cost_max_usd"))
    assert len(set(ranges)) == len(ranges)
    assert (5000, 20000) not in ranges
    for note in TreatmentOption.objects.values_list("cost_note", flat=True):
        assert "set by the clinic" in note
    context = TreatmentOption.objects.get(slug="bone-marrow-stem-cells").cost_note
    assert "Piuzzi" in context and "not our price" in context


def test_no_red_flag_question_takes_back_pain_for_granted(db):
    """Every patient answers every red-flag question, a knee patient too: a question
    may ask about back pain, never start from it ("Since your back pain began")."""
    for flag in RedFlag.objects.filter(is_active=True):
        assert not flag.screening_question.lower().startswith(("since your", "with your")), (
            flag.slug
        )
