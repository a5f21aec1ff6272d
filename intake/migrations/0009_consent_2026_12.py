"""Consent version 2026-12 (issue 18): the risks a clinical review found missing.

Added: injury to a nerve or a blood vessel; the harvest-site risks of bone marrow
(pain, bruising or a hematoma, rarely nerve pain) and of fat (bruising, a fluid
collection, a change of contour); possible transmission of a donor's disease with
allograft; that PRP and dextrose injections are off-label uses; the prices shown are
this clinic's. Published as a new version: intakes signed before keep the version
and SHA-256 of the text they were shown (the earlier row is never changed).
"""

import hashlib
from typing import Any

from django.db import migrations

CONSENT_VERSION = "2026-12"
CONSENT_TITLE = "Consent to share this intake and acknowledgment of risks and costs"
CONSENT_BODY = """\
I confirm that what I have written in this intake is true and complete to the best of my knowledge, and I agree that the clinic's physicians and staff may use it to decide whether a consultation is right for me.

This intake is not a medical consultation and does not start any treatment. A physician will review it, may ask me for more information or imaging, and will tell me whether a consultation is suggested. No treatment is given without a separate consent at the clinic.

I understand that regenerative injections (dextrose prolotherapy, platelet-rich plasma, bone-marrow concentrate, fat tissue and allograft tissue) carry risks, including infection, bleeding or bruising, injury to a nerve or a blood vessel near the injection, an allergic reaction to the solutions or the local anesthetic used, temporary pain or swelling, and that the treatment may not work for me.

I understand that taking bone marrow from the back of the hip can cause pain, bruising or a collection of blood (hematoma) where it is taken, and rarely nerve pain; and that taking fat by a small liposuction can cause bruising, a collection of fluid, or a change in the shape of the skin where it is taken.

I understand that allograft tissue comes from screened and tested donors, and that screening and testing lower, but cannot remove, the chance of passing on a disease from the donor.

I understand that these treatments are usually not covered by health insurance, which often considers them experimental, that I am likely to pay for them myself, and that the prices shown to me are this clinic's prices, which the clinic will confirm before any treatment.

I understand that PRP and dextrose injections are off-label uses: the devices used to prepare PRP are FDA-cleared and dextrose is an FDA-approved drug, but not for treating joint, tendon or spine conditions. Bone-marrow, fat and allograft treatments are not approved by the U.S. Food and Drug Administration for these conditions. Results vary.

I agree that typing my full name below is my electronic signature and has the same effect as a handwritten signature. The clinic keeps the time, the internet address it came from and the version of this text with my signature."""


def publish(apps: Any, schema_editor: Any) -> None:
    ConsentDocument = apps.get_model("intake", "ConsentDocument")
    if ConsentDocument.objects.filter(version=CONSENT_VERSION).exists():
        return
    ConsentDocument.objects.filter(is_current=True).update(is_current=False)
    ConsentDocument.objects.create(
        version=CONSENT_VERSION,
        title=CONSENT_TITLE,
        body=CONSENT_BODY,
        sha256=hashlib.sha256(CONSENT_BODY.encode()).hexdigest(),
        is_current=True,
    )


class Migration(migrations.Migration):
    dependencies = [("intake", "0008_case_priority_reason_text")]

    operations = [migrations.RunPython(publish, migrations.RunPython.noop)]
