import pytest
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from treatments.models import Condition, Contraindication, TreatmentOption


def test_every_fresh_database_has_the_five_options_in_ladder_order(db):
    slugs = list(TreatmentOption.objects.offered().values_list("slug", flat=True))
    assert slugs == [
        "dextrose-prolotherapy",
        "prp",
        "bone-marrow-stem-cells",
        "adipose-stem-cells",
        "allograft",
    ]


def test_options_say_where_the_material_comes_from(db):
    origins = dict(TreatmentOption.objects.values_list("slug", "origin"))
    assert origins["prp"] == origins["bone-marrow-stem-cells"] == "autologous"
    assert origins["allograft"] == "allogeneic"
    cell_based = set(
        TreatmentOption.objects.filter(is_cell_based=True).values_list("slug", flat=True)
    )
    # Allograft is donor tissue, not a living-cell product.
    assert cell_based == {"bone-marrow-stem-cells", "adipose-stem-cells"}
    for option in TreatmentOption.objects.all():
        assert option.patient_description and option.regulatory_note and option.typical_sessions
        assert 0 < option.cost_min_usd <= option.cost_max_usd


def test_a_cost_range_cannot_run_backwards(db):
    option = TreatmentOption.objects.get(slug="prp")
    option.cost_min_usd = option.cost_max_usd + 1
    with pytest.raises(IntegrityError):
        option.save()


def test_the_domain_conditions_are_seeded_with_regions(db):
    names = set(Condition.objects.values_list("slug", flat=True))
    for slug in [
        "knee-osteoarthritis",
        "hip-osteoarthritis",
        "chondral-defect",
        "rheumatoid-arthritis",
        "tendinitis",
        "ligament-injury",
        "acl-tear",
        "tennis-elbow",
        "golfers-elbow",
        "plantar-fasciitis",
        "degenerative-disc-disease",
        "degenerative-disc-disease-neck",
        "muscle-strain",
        "fracture-non-union",
        "spinal-fusion-support",
    ]:
        assert slug in names
    assert Condition.objects.get(slug="knee-osteoarthritis").icd10_code == "M17"
    assert Condition.objects.get(slug="plantar-fasciitis").body_region.slug == "ankle-foot"


def test_the_screening_rules_are_seeded_with_severity_and_options(db):
    rules = {
        rule.slug: rule
        for rule in Contraindication.objects.filter(is_active=True).prefetch_related("options")
    }
    assert set(rules) == {
        "infection",
        "cancer",
        "past-blood-or-bone-cancer",
        "platelet-disorder",
        "bleeding-disorder",
        "anemia-or-low-platelets",
        "tobacco",
        "breastfeeding",
        "joint-replacement-at-site",
        "anticoagulant",
        "nsaid",
        "recent-steroid",
        "pregnancy",
        "uncontrolled-diabetes",
        "immunosuppressant",
        "local-anaesthetic-allergy",
    }
    assert rules["infection"].severity == "hard_stop"
    assert rules["anticoagulant"].severity == "caution"
    assert {o.slug for o in rules["infection"].options.all()} == set(
        TreatmentOption.objects.values_list("slug", flat=True)
    )
    assert "dextrose-prolotherapy" not in {o.slug for o in rules["cancer"].options.all()}
    for rule in rules.values():
        assert rule.screening_question.endswith("?")
        assert rule.source


def test_the_catalogs_options_read_in_spanish_on_the_home_page(db: None, client: Client) -> None:
    assert not TreatmentOption.objects.filter(is_offered=True, patient_description_es="").exists()
    assert not TreatmentOption.objects.filter(is_offered=True, regulatory_note_es="").exists()
    client.cookies["django_language"] = "es"
    page = client.get(reverse("home")).content.decode()
    prp = TreatmentOption.objects.get(slug="prp")
    assert prp.patient_description_es.startswith("Se centrifuga una pequeña cantidad")
    assert prp.patient_description_es in page
    assert prp.regulatory_note_es in page
    assert prp.patient_description not in page
    english = Client().get(reverse("home"), headers={"accept-language": "en"}).content.decode()
    assert prp.patient_description in english
