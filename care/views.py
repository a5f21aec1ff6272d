"""The care pages: the physician's plan editor, the patient's plan and printable
estimate, and the front desk's list of estimates. Thin: fetch through the policy,
bind a form, call the service; a refused action shows on the same page with what
was typed kept."""

from datetime import datetime
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import gettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from care import selectors
from care.estimate_pdf import estimate_pdf
from care.forms import (
    InstructionForm,
    IssueForm,
    LotSearchForm,
    PlanForm,
    PlanItemForm,
    ProcedureRecordForm,
    ReviseForm,
)
from care.models import (
    GoodFaithEstimate,
    PlanItem,
    ProcedureInstruction,
    ProcedureRecord,
    TreatmentPlan,
)
from care.services import estimates, instructions, plans, procedure_records, procedures
from clinic.access import client_ip, signed_in_user
from clinic.audit import Action, audit_read, audit_reads, seen
from clinic.errors import ClinicError
from clinic.models import PhysicianProfile, User
from clinic.policy import (
    estimate_area,
    front_desk_area,
    may_plan_care,
    may_read_estimate,
    patient_area,
    recall_area,
    review_area,
)
from intake.models import Case, Consultation


def _own_case(request: HttpRequest, public_id: UUID) -> tuple[Case, User]:
    """The physician's own case (anyone else's is a 404: the plan editor acts)."""
    me = signed_in_user(request)
    case = get_object_or_404(
        Case.objects.select_related("intake", "patient", "main_complaint"), public_id=public_id
    )
    if not may_plan_care(me, case):
        raise Http404("No such case of yours.")
    return case, me


def _plan_page(
    request: HttpRequest,
    case: Case,
    *,
    plan_form: PlanForm | None = None,
    item_forms: dict[int, PlanItemForm] | None = None,
    revise_form: ReviseForm | None = None,
    instruction_forms: dict[int, InstructionForm] | None = None,
    record_form: ProcedureRecordForm | None = None,
    refused: str = "",
    status: int = 200,
) -> HttpResponse:
    versions = selectors.plans_of(case)
    draft = next((p for p in versions if not p.is_shared), None)
    shared = [p for p in versions if p.is_shared]
    if plan_form is None:
        initial = PlanForm.initial_from(draft) if draft else plans.plan_defaults(case)
        if not draft and case.decisions.exists():
            latest = case.decisions.order_by("-decided_at").first()
            if latest is not None:
                initial["options"] = list(latest.options.values_list("pk", flat=True))
        plan_form = PlanForm(initial=initial)
    forms_by_item = {
        item.pk: PlanItemForm(
            initial={"quantity": item.quantity, "charge": item.charge, "reason": ""},
            prefix=f"item-{item.public_id}",
        )
        for item in (draft.items.all() if draft else [])
    } | (item_forms or {})
    procedure = procedures.booked_procedure(case)
    written = list(procedure.instructions.all()) if procedure else []
    forms_by_instruction = {
        i.pk: InstructionForm(
            initial={"text": i.text, "days_from_procedure": i.days_from_procedure},
            prefix=f"instruction-{i.public_id}",
        )
        for i in written
    } | (instruction_forms or {})
    recordable = procedure_records.recordable_procedure(case)
    if recordable is not None and record_form is None:
        followed = procedures.procedure_plan(case)
        record_form = ProcedureRecordForm(
            plan=followed, initial=ProcedureRecordForm.initial_from(followed, recordable.starts_at)
        )
    audit_read(request, action=Action.VIEW, record=case, patient_id=case.patient_id)
    context: dict[str, Any] = {
        "recordable": recordable,
        "record_form": record_form,
        "records": list(selectors.records_of(case)),
        "procedure": procedure,
        "instructions": [(i, forms_by_instruction[i.pk]) for i in written],
        "patient_view": instructions.approved_for_patient(procedure) if procedure else [],
        "case": case,
        "draft": draft,
        "draft_items": [(item, forms_by_item[item.pk]) for item in draft.items.all()]
        if draft
        else [],
        "shared": shared,
        "current": shared[0] if shared else None,
        "plan_form": plan_form,
        "revise_form": revise_form or ReviseForm(),
        "plannable": case.state in plans.PLANNABLE_STATES,
        "refused": refused,
        "estimates": list(selectors.estimates_of(case)),
    }
    return render(request, "care/plan.html", context, status=status)


@require_http_methods(["GET", "POST"])
@review_area
def plan(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case, me = _own_case(request, public_id)
    if request.method != "POST":
        return _plan_page(request, case)
    form = PlanForm(request.POST)
    if not form.is_valid():
        return _plan_page(request, case, plan_form=form)
    data = form.cleaned_data
    try:
        plans.plan_draft_save(
            case=case,
            physician=me,
            draft=plans.PlanDraft(
                options=list(data["options"]),
                body_region=data["body_region"],
                side=data["side"],
                condition=data["condition"],
                icd10_code=data["icd10_code"],
                sessions=data["sessions"],
                weeks_between_sessions=data["weeks_between_sessions"],
                guidance=data["guidance"],
                harvest_source=data["harvest_source"],
                note_to_patient=data["note_to_patient"],
            ),
        )
    except ClinicError as error:
        form.add_error(None, str(error))
        return _plan_page(request, case, plan_form=form)
    messages.success(request, "The draft plan is saved. Check the charges, then share it.")
    return redirect("care:plan", public_id=case.public_id)


def _plan_of_mine(request: HttpRequest, public_id: UUID) -> tuple[TreatmentPlan, Case, User]:
    plan = get_object_or_404(TreatmentPlan, public_id=public_id)
    case, me = _own_case(request, plan.case.public_id)
    return plan, case, me


@require_POST
@review_area
def plan_item(request: HttpRequest, public_id: UUID) -> HttpResponse:
    item = get_object_or_404(PlanItem.objects.select_related("plan__case"), public_id=public_id)
    case, me = _own_case(request, item.plan.case.public_id)
    form = PlanItemForm(request.POST, prefix=f"item-{item.public_id}")
    if form.is_valid():
        try:
            plans.plan_item_adjust(
                item=item,
                physician=me,
                quantity=form.cleaned_data["quantity"],
                charge=form.cleaned_data["charge"],
                reason=form.cleaned_data["reason"],
            )
        except ClinicError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{item.description}: charge saved.")
            return redirect("care:plan", public_id=case.public_id)
    return _plan_page(request, case, item_forms={item.pk: form})


@require_POST
@review_area
def plan_share(request: HttpRequest, public_id: UUID) -> HttpResponse:
    plan, case, me = _plan_of_mine(request, public_id)
    try:
        plans.plan_share(plan=plan, physician=me)
    except ClinicError as error:
        return _plan_page(request, case, refused=str(error))
    messages.success(request, f"Version {plan.version} is shared with the patient.")
    return redirect("care:plan", public_id=case.public_id)


@require_POST
@review_area
def plan_revise(request: HttpRequest, public_id: UUID) -> HttpResponse:
    plan, case, me = _plan_of_mine(request, public_id)
    form = ReviseForm(request.POST)
    if form.is_valid():
        try:
            plans.plan_revise(plan=plan, physician=me, reason=form.cleaned_data["reason"])
        except ClinicError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "A new draft version is open; change it, then share it.")
            return redirect("care:plan", public_id=case.public_id)
    return _plan_page(request, case, revise_form=form)


def _procedure_of_mine(request: HttpRequest, public_id: UUID) -> tuple[Consultation, Case, User]:
    procedure = get_object_or_404(Consultation.objects.select_related("case"), public_id=public_id)
    case, me = _own_case(request, procedure.case.public_id)
    return procedure, case, me


def _instruction_of_mine(
    request: HttpRequest, public_id: UUID
) -> tuple[ProcedureInstruction, Case, User]:
    instruction = get_object_or_404(
        ProcedureInstruction.objects.select_related("procedure__case"), public_id=public_id
    )
    case, me = _own_case(request, instruction.procedure.case.public_id)
    return instruction, case, me


@require_POST
@review_area
def instructions_draft(request: HttpRequest, public_id: UUID) -> HttpResponse:
    procedure, case, me = _procedure_of_mine(request, public_id)
    try:
        made = instructions.instructions_draft(procedure=procedure, physician=me)
    except ClinicError as error:
        return _plan_page(request, case, refused=str(error))
    messages.success(request, f"{len(made)} instruction(s) drafted: review them, then approve.")
    return redirect("care:plan", public_id=case.public_id)


@require_POST
@review_area
def instruction_edit(request: HttpRequest, public_id: UUID) -> HttpResponse:
    instruction, case, me = _instruction_of_mine(request, public_id)
    form = InstructionForm(request.POST, prefix=f"instruction-{instruction.public_id}")
    if form.is_valid():
        try:
            instructions.instruction_edit(
                instruction=instruction,
                physician=me,
                text=form.cleaned_data["text"],
                days_from_procedure=form.cleaned_data["days_from_procedure"],
            )
        except ClinicError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "Instruction saved; approve it to show it to the patient.")
            return redirect("care:plan", public_id=case.public_id)
    return _plan_page(request, case, instruction_forms={instruction.pk: form})


@require_POST
@review_area
def instruction_drop(request: HttpRequest, public_id: UUID) -> HttpResponse:
    instruction, case, me = _instruction_of_mine(request, public_id)
    try:
        instructions.instruction_drop(instruction=instruction, physician=me)
    except ClinicError as error:
        return _plan_page(request, case, refused=str(error))
    messages.success(request, "Instruction dropped for this patient.")
    return redirect("care:plan", public_id=case.public_id)


@require_POST
@review_area
def instructions_approve(request: HttpRequest, public_id: UUID) -> HttpResponse:
    procedure, case, me = _procedure_of_mine(request, public_id)
    try:
        instructions.instructions_approve(procedure=procedure, physician=me)
    except ClinicError as error:
        return _plan_page(request, case, refused=str(error))
    messages.success(request, "Instructions approved; the patient can read them now.")
    return redirect("care:plan", public_id=case.public_id)


@require_POST
@review_area
def procedure_record(request: HttpRequest, public_id: UUID) -> HttpResponse:
    consultation, case, me = _procedure_of_mine(request, public_id)
    try:
        followed = procedures.procedure_plan(case)
    except ClinicError as error:
        return _plan_page(request, case, refused=str(error))
    form = ProcedureRecordForm(request.POST, plan=followed)
    if form.is_valid():
        data = form.cleaned_data
        day = timezone.localtime(consultation.starts_at).date()
        performed_at = datetime.combine(
            day, data["performed_time"], tzinfo=timezone.get_current_timezone()
        )
        try:
            procedure_records.procedure_record(
                consultation=consultation,
                physician=me,
                details=procedure_records.ProcedureDetails(
                    performed_at=performed_at,
                    option=data["option"],
                    body_region=data["body_region"],
                    side=data["side"],
                    guidance=data["guidance"],
                    volume_injected_ml=data["volume_injected_ml"],
                    harvest_site=data["harvest_site"],
                    volume_harvested_ml=data["volume_harvested_ml"],
                    nucleated_cells_millions=data["nucleated_cells_millions"],
                    product_name=data["product_name"],
                    manufacturer=data["manufacturer"],
                    lot_number=data["lot_number"],
                    lot_expires_on=data["lot_expires_on"],
                    complication=data["complication"],
                    note=data["note"],
                ),
            )
        except ClinicError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, "The procedure is recorded; the case is now treated.")
            return redirect("care:plan", public_id=case.public_id)
    return _plan_page(request, case, record_form=form, status=200)


# --- The tissue-lot recall list --------------------------------------------------------


@require_safe
@recall_area
def lot_recall(request: HttpRequest) -> HttpResponse:
    """Every patient who received a donor-tissue lot, with how to reach them. The lot
    number is not health data, so it may stay in the address (a bookmarkable search);
    each patient listed is audited."""
    form = LotSearchForm(request.GET or None)
    found: list[ProcedureRecord] = []
    if form.is_valid():
        found = list(selectors.lot_recipients(form.cleaned_data["lot"]))
        audit_reads(
            request,
            action=Action.LIST,
            records=[seen(record, record.case.patient_id) for record in found],
        )
    return render(request, "care/lot_recall.html", {"form": form, "found": found})


# --- The patient ------------------------------------------------------------------------


def _patients_case(request: HttpRequest, public_id: UUID) -> Case:
    return get_object_or_404(
        Case.objects.select_related("intake"), public_id=public_id, patient=request.user
    )


@require_safe
@patient_area
def patient_care(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The patient's shared plan (the latest version) and their estimates."""
    case = _patients_case(request, public_id)
    current = next((p for p in selectors.plans_of(case) if p.is_shared), None)
    procedure = procedures.booked_procedure(case)
    dated = instructions.approved_for_patient(procedure) if procedure else []
    read = (
        procedure.instruction_receipts.filter(starts_at=procedure.starts_at).exists()
        if procedure
        else False
    )
    audit_read(request, action=Action.VIEW, record=case, patient_id=case.patient_id)
    return render(
        request,
        "care/patient_care.html",
        {
            "case": case,
            "plan": current,
            "procedure": procedure,
            "records": list(selectors.records_of(case)),
            "instructions": dated,
            "instructions_read": read,
            "estimates": list(selectors.estimates_of(case)),
            "asked": case.estimates_due.open().filter(reason="requested").exists(),
        },
    )


@require_POST
@patient_area
def estimate_request(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = _patients_case(request, public_id)
    try:
        estimates.estimate_request(case=case, patient=signed_in_user(request))
    except ClinicError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, gettext("Thank you: the clinic will send your Good Faith Estimate.")
        )
    return redirect("care:patient_care", public_id=case.public_id)


def _readable_estimate(
    request: HttpRequest, public_id: UUID, *, action: str
) -> tuple[GoodFaithEstimate, User]:
    """An estimate the signed-in person may read (else a 404), its reading audited."""
    document = get_object_or_404(selectors.estimate_document(public_id))
    me = signed_in_user(request)
    if not may_read_estimate(me, document.case):
        raise Http404("No such estimate.")
    audit_read(request, action=action, record=document, patient_id=document.case.patient_id)
    return document, me


@require_safe
@estimate_area
def estimate(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The estimate as issued, printable."""
    document, me = _readable_estimate(request, public_id, action=Action.VIEW)
    newer = GoodFaithEstimate.objects.filter(
        case_id=document.case_id, issued_at__gt=document.issued_at
    ).exists()
    return render(
        request,
        "care/estimate.html",
        {
            "estimate": document,
            "lines": list(document.lines.all()),
            "receipt": getattr(document, "acknowledgement", None),
            "is_patient": document.case.patient_id == me.pk,
            "superseded": newer,
        },
    )


@require_safe
@estimate_area
def estimate_download(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The same estimate as a PDF to keep (audited as a download; never cached)."""
    document, _ = _readable_estimate(request, public_id, action=Action.DOWNLOAD)
    pdf = estimate_pdf(document, list(document.lines.all()), clinic_name=settings.CLINIC_NAME)
    response = HttpResponse(pdf, content_type="application/pdf")
    day = timezone.localtime(document.issued_at).date().isoformat()
    response["Content-Disposition"] = f'attachment; filename="good-faith-estimate-{day}.pdf"'
    patch_cache_control(response, no_store=True, private=True)
    return response


@require_POST
@patient_area
def estimate_acknowledge(request: HttpRequest, public_id: UUID) -> HttpResponse:
    document = get_object_or_404(
        GoodFaithEstimate.objects.select_related("case"),
        public_id=public_id,
        case__patient=request.user,
    )
    estimates.estimate_acknowledge(
        estimate=document, patient=signed_in_user(request), ip_address=client_ip(request)
    )
    messages.success(request, gettext("Thank you: your receipt of the estimate is recorded."))
    return redirect("care:estimate", public_id=document.public_id)


@require_POST
@patient_area
def instructions_acknowledge(request: HttpRequest, public_id: UUID) -> HttpResponse:
    procedure = get_object_or_404(
        Consultation.objects.select_related("case"), public_id=public_id, patient=request.user
    )
    try:
        instructions.instructions_acknowledge(
            procedure=procedure, patient=signed_in_user(request), ip_address=client_ip(request)
        )
    except ClinicError as error:
        messages.error(request, str(error))
    else:
        messages.success(
            request, gettext("Thank you: we have recorded that you read the instructions.")
        )
    return redirect("care:patient_care", public_id=procedure.case.public_id)


# --- The front desk ---------------------------------------------------------------------


def _estimates_page(
    request: HttpRequest, *, bound: IssueForm | None = None, bound_case: int | None = None
) -> HttpResponse:
    today = timezone.localdate()
    lists = selectors.front_desk_estimates(today=today)
    audit_reads(
        request,
        action=Action.LIST,
        records=[seen(d.case, d.case.patient_id) for d in (*lists.overdue, *lists.due)]
        + [seen(e, e.case.patient_id) for e in lists.issued]
        + [seen(c, c.patient_id) for c in lists.to_book],
    )
    rows = [
        (due, bound if bound is not None and due.case_id == bound_case else IssueForm())
        for due in (*lists.overdue, *lists.due)
    ]
    return render(
        request,
        "care/estimates.html",
        {"lists": lists, "rows": rows, "today": today},
    )


@require_safe
@front_desk_area
def estimates_list(request: HttpRequest) -> HttpResponse:
    return _estimates_page(request)


@require_POST
@front_desk_area
def estimate_issue(request: HttpRequest, public_id: UUID) -> HttpResponse:
    case = get_object_or_404(Case, public_id=public_id)
    form = IssueForm(request.POST)
    if form.is_valid():
        try:
            issued = estimates.estimate_issue(
                case=case,
                by=signed_in_user(request),
                separately_scheduled=form.cleaned_data["separately_scheduled"],
            )
        except ClinicError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"The estimate for case {case.reference} is issued.")
            return redirect("care:estimate", public_id=issued.public_id)
    return _estimates_page(request, bound=form, bound_case=case.pk)


@require_http_methods(["GET", "HEAD", "POST"])
@front_desk_area
def procedure_book(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The front desk books the plan's procedure: the booking page's slot search for
    the plan's physician, the same guarantees (see ``care.services.procedures``)."""
    from intake.views.frontdesk import _slot_page, _slot_taken

    case = get_object_or_404(Case.objects.select_related("intake"), public_id=public_id)
    try:
        plan = procedures.procedure_plan(case)
    except ClinicError as refused:
        messages.info(request, str(refused))
        return redirect("care:estimates")
    physician = get_object_or_404(
        PhysicianProfile.objects.select_related("user"), user_id=plan.physician_id
    )
    error, status = "", 200
    if request.method == "POST":
        booked, error, status = _slot_taken(
            request,
            lambda starts_at: procedures.procedure_book(
                case=case, starts_at=starts_at, booked_by=signed_in_user(request)
            ),
        )
        if booked is not None:
            messages.success(
                request,
                f"Procedure booked for {case.intake.legal_name} with {physician.display_name}. "
                "The patient has been sent the details.",
            )
            return redirect("frontdesk:consultation", public_id=booked.public_id)
    return _slot_page(
        request,
        case=case,
        physician=physician,
        kind=procedures.procedure_type(),
        mode_display="In person",
        error=error,
        status=status,
    )
