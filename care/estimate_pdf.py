"""The Good Faith Estimate as a PDF, for the patient to download and keep (the rule
asks that they can keep a copy; the printable page is the same document).

Drawn with fpdf2 (pure Python: nothing to install beyond the wheel) from the issued
estimate's own fields, so it says exactly what the page says. fpdf2's built-in fonts
cover Latin-1 only and no font file is shipped with the product: typographic
punctuation is replaced by its plain form, and any other character outside Latin-1
by "?" (the page itself shows every character).
"""

from datetime import date, datetime

from django.utils import formats, translation
from django.utils.translation import gettext as _
from fpdf import FPDF
from fpdf.enums import XPos, YPos

from care.models import EstimateLine, GoodFaithEstimate

_PLAIN = str.maketrans(
    {
        "\u2013": "-",
        "\u2014": "-",
        "\u2018": "'",
        "\u2019": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u2026": "...",
        "\u00a0": " ",
        "\u2022": "-",
        "\u00b7": "-",
    }
)


def _latin1(text: str) -> str:
    return text.translate(_PLAIN).encode("latin-1", "replace").decode("latin-1")


def _us_date(value: date | datetime | None) -> str:
    if isinstance(value, datetime):
        return f"{value:%B} {value.day}, {value.year}, {value.hour % 12 or 12}:{value:%M %p}"
    if isinstance(value, date):
        return f"{value:%B} {value.day}, {value.year}"
    return ""


def _date(value: date | datetime) -> str:
    """A date in the active language: "December 6, 2026" in English (US style),
    "6 de diciembre de 2026" in Spanish."""
    if translation.get_language() == "en":
        return _us_date(value)
    name = "PATIENT_DATETIME_FORMAT" if isinstance(value, datetime) else "PATIENT_DATE_FORMAT"
    return formats.date_format(value, name)


def estimate_pdf(
    estimate: GoodFaithEstimate, lines: list[EstimateLine], *, clinic_name: str
) -> bytes:
    """The issued estimate, laid out on US Letter pages, in the language it was
    issued in."""
    with translation.override(estimate.language):
        return _estimate_pdf(estimate, lines, clinic_name=clinic_name)


def _estimate_pdf(
    estimate: GoodFaithEstimate, lines: list[EstimateLine], *, clinic_name: str
) -> bytes:
    from django.utils import timezone

    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_title(_latin1(_("Good Faith Estimate")))
    pdf.set_author(_latin1(clinic_name))
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    width = pdf.epw

    def heading(text: str, size: int = 11) -> None:
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(width, 6, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)

    def para(text: str, size: int = 10) -> None:
        pdf.set_font("Helvetica", "", size)
        pdf.multi_cell(width, 5, _latin1(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        pdf.ln(1)

    heading(_("Good Faith Estimate"), 16)
    para(_("Issued %(issued_at)s") % {"issued_at": _date(timezone.localtime(estimate.issued_at))})
    heading(_("Patient"))
    para(
        _("%(name)s, born %(born_on)s")
        % {"name": estimate.patient_name, "born_on": _date(estimate.patient_date_of_birth)}
    )
    heading(_("Primary service"))
    when = (
        _("Scheduled for %(service_on)s.") % {"service_on": _date(estimate.service_date)}
        if estimate.service_date
        else _("Not scheduled yet.")
    )
    para(f"{estimate.primary_service}. {when}")
    heading(_("Provider"))
    physician = _("Physician: %(physician)s") % {"physician": estimate.practitioner_name}
    if estimate.practitioner_npi:
        physician += " " + _("(NPI %(npi)s)") % {"npi": estimate.practitioner_npi}
    para(
        _("%(provider)s · NPI %(npi)s · tax identification number %(tin)s")
        % {
            "provider": estimate.provider_name,
            "npi": estimate.provider_npi,
            "tin": estimate.provider_tin,
        }
        + f"\n{estimate.provider_location}\n{physician}"
    )
    heading(_("Expected items and services"))
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(
        col_widths=(70, 28, 24, 18, 30),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
        line_height=5,
    ) as table:
        table.row(
            [
                _latin1(_("Item or service")),
                _latin1(_("Service code")),
                _latin1(_("Diagnosis code")),
                _latin1(_("Quantity")),
                _latin1(_("Expected charge")),
            ]
        )
        for line in lines:
            table.row(
                [
                    _latin1(line.description),
                    _latin1(line.service_code or "-"),
                    _latin1(line.diagnosis_code),
                    str(line.quantity),
                    f"${line.charge:,.2f}",
                ]
            )
        table.row([_latin1(_("Total expected charges")), "", "", "", f"${estimate.total:,.2f}"])
    pdf.ln(3)
    heading(_("Services scheduled separately"))
    para(
        estimate.separately_scheduled
        or _(
            "None expected. Any other provider's services that you schedule separately are "
            "not part of this estimate; you will receive their estimates from them."
        )
    )
    heading(_("Disclaimer"))
    for paragraph in estimate.disclaimer.paragraphs:
        para(paragraph, 9)
    return bytes(pdf.output())
