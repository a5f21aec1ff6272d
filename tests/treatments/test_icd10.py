"""Every ICD-10-CM code in the catalog exists, checked offline against the code set
(simple_icd_10_cm, a pinned test dependency), and each complaint gets the billable
code its condition and side imply."""

import pytest
import simple_icd_10_cm as icd

from intake.models import Complaint
from treatments.coding import billable_code
from treatments.models import Condition, ConditionCode, Laterality


def test_every_category_code_in_the_catalog_is_an_icd10cm_code(db):
    codes = [c for c in Condition.objects.values_list("icd10_code", flat=True) if c]
    assert codes
    for code in codes:
        assert icd.is_valid_item(code), code


def test_every_billable_code_is_billable_and_belongs_to_its_condition(db):
    rows = list(ConditionCode.objects.select_related("condition"))
    assert rows
    for row in rows:
        assert icd.is_valid_item(row.code) and icd.is_leaf(row.code), row
        category = row.condition.icd10_code
        assert row.code == category or category in icd.get_ancestors(row.code), row


@pytest.mark.parametrize(
    ("slug", "side", "code"),
    [
        ("knee-osteoarthritis", "right", "M17.11"),
        ("knee-osteoarthritis", "both", "M17.0"),
        ("acl-tear", "left", "M23.612"),
        ("chondral-defect", "right", "M94.261"),
        ("degenerative-disc-disease-neck", "na", "M50.30"),
        ("spinal-fusion-support", "na", "M96.0"),
        ("plantar-fasciitis", "left", "M72.2"),
        # No single billable code: the physician codes these when charting.
        ("shoulder-osteoarthritis", "both", None),
        ("degenerative-disc-disease", "na", None),
        ("fracture-non-union", "left", None),
    ],
)
def test_a_complaint_gets_the_billable_code_its_condition_and_side_imply(db, slug, side, code):
    assert billable_code(Condition.objects.get(slug=slug), side) == code


def test_no_condition_no_code(db):
    assert billable_code(None, "left") is None


def test_the_corrected_codes(db):
    codes = dict(Condition.objects.values_list("slug", "icd10_code"))
    assert codes["fracture-non-union"] == ""  # M84.1 does not exist
    assert codes["degenerative-disc-disease"] == "M51.36"  # lumbar; M51.3 excludes the neck
    assert codes["degenerative-disc-disease-neck"] == "M50.3"
    assert codes["spinal-fusion-support"] == "M96.0"  # Z98.1 is arthrodesis status
    assert codes["acl-tear"] == "M23.61"  # S83.51- is an acute sprain
    assert codes["chondral-defect"] == "M94.26"


def test_the_sides_are_the_complaints_sides():
    assert Laterality.values == Complaint.Side.values
