"""The first billable items per treatment option and the estimate's disclaimers.

Prices are EXAMPLES (marked ``price_is_example``), chosen inside the range a survey
of US clinics found (Piuzzi et al., J Knee Surg 2018: mean about USD 5,156, range
1,150-12,000 per knee injection); each clinic sets its own in the admin. Codes are
the common ones for these services; the clinic's biller confirms them:

- CPT 20610: arthrocentesis, aspiration and/or injection, major joint or bursa,
  without ultrasound guidance. CPT 20611 is the same with ultrasound guidance; 76942
  (ultrasound guidance for needle placement) is not billed with 20610/20611, so it is
  an item only for soft-tissue (tendon, ligament) sites.
- CPT 0232T: injection of platelet-rich plasma, any site, including image guidance,
  harvesting and preparation (so no separate guidance or draw line).
- CPT 38220: diagnostic bone marrow aspiration, the code the issue names for the
  harvest; some billers use 38232 (harvest for transplantation): a coding note says so.

Idempotent (the test suite re-runs it after a flush)."""

from decimal import Decimal
from typing import Any

from django.db import migrations

ITEMS: list[dict[str, Any]] = [
    {
        "option": "dextrose-prolotherapy",
        "description": "Joint injection, major joint (hypertonic dextrose)",
        "code_system": "cpt",
        "code": "20610",
        "cash_price": Decimal("350.00"),
        "display_order": 10,
    },
    {
        "option": "dextrose-prolotherapy",
        "description": "Ultrasound guidance for needle placement (tendon or ligament sites)",
        "code_system": "cpt",
        "code": "76942",
        "cash_price": Decimal("150.00"),
        "included_by_default": False,
        "note": "Not billed with 20610 or 20611 (joint injections).",
        "display_order": 20,
    },
    {
        "option": "prp",
        "description": "Platelet-rich plasma injection, including blood draw, preparation "
        "and image guidance",
        "code_system": "cpt",
        "code": "0232T",
        "cash_price": Decimal("1200.00"),
        "display_order": 10,
    },
    {
        "option": "bone-marrow-stem-cells",
        "description": "Bone marrow aspiration (harvest from the back of the hip bone)",
        "code_system": "cpt",
        "code": "38220",
        "cash_price": Decimal("1800.00"),
        "note": "Some billers use 38232 (harvest for transplantation); confirm with yours.",
        "display_order": 10,
    },
    {
        "option": "bone-marrow-stem-cells",
        "description": "Concentration of the bone marrow aspirate (same day)",
        "code_system": "",
        "code": "",
        "cash_price": Decimal("2500.00"),
        "display_order": 20,
    },
    {
        "option": "bone-marrow-stem-cells",
        "description": "Joint injection with ultrasound guidance",
        "code_system": "cpt",
        "code": "20611",
        "cash_price": Decimal("700.00"),
        "display_order": 30,
    },
    {
        "option": "adipose-stem-cells",
        "description": "Fat harvest under local anesthesia and preparation (same day)",
        "code_system": "",
        "code": "",
        "cash_price": Decimal("4500.00"),
        "display_order": 10,
    },
    {
        "option": "adipose-stem-cells",
        "description": "Joint injection with ultrasound guidance",
        "code_system": "cpt",
        "code": "20611",
        "cash_price": Decimal("700.00"),
        "display_order": 20,
    },
    {
        "option": "allograft",
        "description": "Donor tissue product (placental or umbilical allograft)",
        "code_system": "",
        "code": "",
        "cash_price": Decimal("3000.00"),
        "display_order": 10,
    },
    {
        "option": "allograft",
        "description": "Joint injection with ultrasound guidance",
        "code_system": "cpt",
        "code": "20611",
        "cash_price": Decimal("700.00"),
        "display_order": 20,
    },
]

DISCLAIMER_VERSION = "2026-1"
DISCLAIMER = """\
This Good Faith Estimate shows the costs of items and services that are reasonably \
expected for your health care needs for an item or service. The estimate is based on \
information known at the time the estimate was created.

The Good Faith Estimate does not include any unknown or unexpected costs that may \
arise during treatment. You could be charged more if complications or special \
circumstances occur.

This is an estimate, not a contract, and it does not require you to obtain the items \
or services from any of the providers or facilities named in it.

If you are billed for more than this Good Faith Estimate, you have the right to \
dispute the bill. You may contact the health care provider or facility listed to let \
them know the billed charges are higher than the Good Faith Estimate. You can ask \
them to update the bill to match the Good Faith Estimate, ask to negotiate the bill, \
or ask if there is financial assistance available.

You may also start a dispute resolution process with the U.S. Department of Health \
and Human Services (HHS). If you choose to use the dispute resolution process, you \
must start the dispute process within 120 calendar days (about 4 months) of the date \
on the original bill. There is a fee to use the dispute process. If the agency \
reviewing your dispute agrees with you, you will have to pay the price on this Good \
Faith Estimate. If the agency disagrees with you and agrees with the health care \
provider or facility, you will have to pay the higher amount. You can dispute a bill \
when it is at least $400 more than this estimate for any one provider or facility.

To learn more and get a form to start the process, go to www.cms.gov/nosurprises or \
call 1-800-985-3059.

Keep a copy of this Good Faith Estimate in a safe place or take pictures of it. You \
may need it if you are billed a higher amount. For questions or more information \
about your right to a Good Faith Estimate, visit www.cms.gov/nosurprises."""


def seed(apps: Any, schema_editor: Any) -> None:
    import hashlib

    BillableItem = apps.get_model("care", "BillableItem")
    TreatmentOption = apps.get_model("treatments", "TreatmentOption")
    EstimateDisclaimer = apps.get_model("care", "EstimateDisclaimer")
    options = {option.slug: option for option in TreatmentOption.objects.all()}
    for data in ITEMS:
        option = options.get(data["option"])
        if option is None:
            continue  # the clinic removed the option; nothing to price
        values = {k: v for k, v in data.items() if k not in ("option", "description")}
        BillableItem.objects.get_or_create(
            option=option,
            description=data["description"],
            defaults={"price_is_example": True, **values},
        )
    if not EstimateDisclaimer.objects.filter(version=DISCLAIMER_VERSION).exists():
        EstimateDisclaimer.objects.create(
            version=DISCLAIMER_VERSION,
            body=DISCLAIMER,
            sha256=hashlib.sha256(DISCLAIMER.encode()).hexdigest(),
            is_current=not EstimateDisclaimer.objects.filter(is_current=True).exists(),
        )


class Migration(migrations.Migration):
    dependencies = [
        ("care", "0001_initial"),
        ("treatments", "0002_seed_catalog"),
    ]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
