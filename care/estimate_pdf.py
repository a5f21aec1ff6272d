"""The Good Faith Estimate as a PDF, for the patient to download and keep (the rule
asks that they can keep a copy; the printable page is the same document).

Drawn with fpdf2 (pure Python: nothing to install beyond the wheel) from the issued
estimate's own fields, so it says exactly what the page says. fpdf2's built-in fonts
cover Latin-1 only and no font file is shipped with the product: typographic
punctuation is replaced by its plain form, and any other character outside Latin-1
by "?" (the page itself shows every character).
"""

from datetime import date, datetime

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


def estimate_pdf(
    estimate: GoodFaithEstimate, lines: list[EstimateLine], *, clinic_name: str
) -> bytes:
    """The issued estimate, laid out on US Letter pages."""
    from django.utils import timezone

    pdf = FPDF(format="Letter", unit="mm")
    pdf.set_title("Good Faith Estimate")
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

    heading("Good Faith Estimate", 16)
    para(f"Issued {_us_date(timezone.localtime(estimate.issued_at))}")
    heading("Patient")
    para(f"{estimate.patient_name}, born {_us_date(estimate.patient_date_of_birth)}")
    heading("Primary service")
    when = (
        f"Scheduled for {_us_date(estimate.service_date)}."
        if estimate.service_date
        else "Not scheduled yet."
    )
    para(f"{estimate.primary_service}. {when}")
    heading("Provider")
    para(
        f"{estimate.provider_name} - NPI {estimate.provider_npi} - tax identification "
        f"number {estimate.provider_tin}\n{estimate.provider_location}\n"
        f"Physician: {estimate.practitioner_name}"
        + (f" (NPI {estimate.practitioner_npi})" if estimate.practitioner_npi else "")
    )
    heading("Expected items and services")
    pdf.set_font("Helvetica", "", 9)
    with pdf.table(
        col_widths=(70, 28, 24, 18, 30),
        text_align=("LEFT", "LEFT", "LEFT", "RIGHT", "RIGHT"),
        line_height=5,
    ) as table:
        table.row(
            ["Item or service", "Service code", "Diagnosis code", "Quantity", "Expected charge"]
        )
        for line in lines:
            table.row(
                [
                    _latin1(line.description),
                    _latin1(line.service_code or "No code"),
                    _latin1(line.diagnosis_code),
                    str(line.quantity),
                    f"${line.charge:,.2f}",
                ]
            )
        table.row(["Total expected charges", "", "", "", f"${estimate.total:,.2f}"])
    pdf.ln(3)
    heading("Services scheduled separately")
    para(
        estimate.separately_scheduled
        or "None expected. Any other provider's services that you schedule separately are "
        "not part of this estimate; you will receive their estimates from them."
    )
    heading("Disclaimer")
    for paragraph in estimate.disclaimer.paragraphs:
        para(paragraph, 9)
    return bytes(pdf.output())
