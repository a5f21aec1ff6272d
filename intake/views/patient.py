from typing import Any
from uuid import UUID

from django.contrib import messages
from django.contrib.auth import login
from django.forms import MultiWidget
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.datastructures import MultiValueDict
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from clinic.access import client_ip, signed_in_user
from clinic.audit import Action, audit_read, audit_reads, seen
from clinic.errors import ClinicError
from clinic.forms import PatientSignupForm
from clinic.policy import clinical_record_area, may_read_clinical_record, patient_area
from clinic.services import patient_account_create
from intake import cases, notifications, scheduling, services
from intake.forms import ConsentForm, InformationAnswerForm
from intake.frontdesk_forms import ChangeRequestForm
from intake.models import (
    STEP_COUNT,
    Case,
    Consultation,
    ImagingFile,
    InformationRequest,
    Intake,
)
from intake.selectors import (
    intake_summary,
    patient_decisions,
    red_flag_advice,
)
from intake.steps import STEPS, StepForms
from treatments.models import TreatmentOption

ACTIONS = {"next", "back", "exit", "stay", "add"}


def _home_page(
    request: HttpRequest,
    *,
    bound: ChangeRequestForm | None = None,
    bound_for: UUID | None = None,
    status: int = 200,
) -> HttpResponse:
    me = signed_in_user(request)
    intakes = list(Intake.objects.of_patient(me))
    draft = next((intake for intake in intakes if intake.is_draft), None)
    submitted = [intake for intake in intakes if not intake.is_draft]
    # A physician's question waits on the patient: it comes first, with its own button.
    waiting = list(
        InformationRequest.objects.filter(
            case__intake__patient=me, answered_at__isnull=True
        ).select_related("case__intake", "asked_by__physician_profile")
    )
    consultations = list(Consultation.objects.upcoming_for(me, now=timezone.now()))
    audit_reads(
        request,
        action=Action.LIST,
        records=[seen(record, me.pk) for record in [*intakes, *consultations]],
    )
    for consultation in consultations:
        consultation.change_form = (  # type: ignore[attr-defined]
            bound
            if bound is not None and consultation.public_id == bound_for
            else ChangeRequestForm(auto_id=f"id_%s_{consultation.public_id.hex[:8]}")
        )
    return render(
        request,
        "intake/home.html",
        {
            "intakes": intakes,
            "draft": draft,
            "latest": submitted[0] if submitted else None,
            "earlier": submitted[1:],
            "waiting": waiting,
            "step_count": STEP_COUNT,
            "consultations": consultations,
            "bound_for": bound_for,
            "late_notice_hours": scheduling.LATE_NOTICE_HOURS,
        },
        status=status,
    )


@require_safe
@patient_area
def home(request: HttpRequest) -> HttpResponse:
    return _home_page(request)


def _own_consultation(request: HttpRequest, public_id: UUID) -> Consultation:
    """The patient's own consultation; anyone else's is a 404."""
    return get_object_or_404(
        Consultation.objects.select_related("physician__physician_profile", "case__intake"),
        public_id=public_id,
        patient=signed_in_user(request),
    )


@require_POST
@patient_area
def consultation_change(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The patient asks the front desk to move or cancel a booked consultation."""
    consultation = _own_consultation(request, public_id)
    form = ChangeRequestForm(request.POST, auto_id=f"id_%s_{consultation.public_id.hex[:8]}")
    if form.is_valid():
        try:
            change = scheduling.consultation_change_request(
                consultation=consultation,
                patient=signed_in_user(request),
                kind=form.cleaned_data["kind"],
                message=form.cleaned_data["message"],
            )
        except ClinicError as refused:
            # Shown at the top: the form may no longer be offered (a request is open).
            messages.error(request, str(refused))
        else:
            if change.kind == change.Kind.RESCHEDULE:
                asked = _(
                    "We have asked the front desk to move your consultation; they will "
                    "contact you. Until then it stays booked."
                )
            else:
                asked = _(
                    "We have asked the front desk to cancel your consultation; they will "
                    "contact you. Until then it stays booked."
                )
            if change.late:
                asked += " " + _(
                    "As it is less than %(hours)s hours away, please also call the clinic."
                ) % {"hours": scheduling.LATE_NOTICE_HOURS}
            messages.success(request, asked)
            return redirect("intake:home")
    return _home_page(request, bound=form, bound_for=consultation.public_id)


@require_safe
@patient_area
def consultation_calendar(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """The consultation as an .ics file for the patient's own calendar."""
    consultation = _own_consultation(request, public_id)
    audit_read(
        request, action=Action.EXPORT, record=consultation, patient_id=consultation.patient_id
    )
    response = HttpResponse(
        notifications.consultation_calendar(
            consultation, cancelled=consultation.state == Consultation.State.CANCELLED
        ),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="consultation.ics"'
    return response


@require_http_methods(["GET", "HEAD", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    """'Start your intake': a new patient creates an account and is logged in."""
    if request.user.is_authenticated:
        return redirect("role_home")
    form = PatientSignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = patient_account_create(
                email=form.cleaned_data["email"],
                full_name=form.cleaned_data["full_name"],
                password=form.cleaned_data["password1"],
                language=translation.get_language() or "",
            )
        except ClinicError as error:  # the address is taken (the service checks it)
            form.add_error(
                "email", _("%(error)s Log in, or reset your password.") % {"error": error}
            )
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            # No message here: the home page's own notice says where the link went
            # (with a button to send it again); a second copy of it would only repeat.
            return redirect("intake:home")
    return render(request, "intake/signup.html", {"form": form})


@require_POST
@patient_area
def intake_new(request: HttpRequest) -> HttpResponse:
    """Starts an intake (or reopens the patient's draft) and goes to its next step."""
    intake = services.intake_start(patient=signed_in_user(request))
    return redirect("intake:step", public_id=intake.public_id, step=intake.next_step)


def _own_intake(request: HttpRequest, public_id: UUID) -> Intake:
    """The patient's own intake; anyone else's is a 404, so ids reveal nothing."""
    return get_object_or_404(Intake, public_id=public_id, patient=signed_in_user(request))


def _step_url(intake: Intake, step: int) -> str:
    return reverse("intake:step", kwargs={"public_id": intake.public_id, "step": step})


def _typed_answers(request: HttpRequest, forms: StepForms) -> dict[str, list[str]]:
    """What the patient typed, limited to the step's own field names."""
    names: set[str] = set()
    for form in forms.all():
        for name, field in form.fields.items():
            names.add(form.add_prefix(name))
            if isinstance(field.widget, MultiWidget):  # a month and a year: name_0, name_1
                names |= {f"{form.add_prefix(name)}_{n}" for n in range(len(field.widget.widgets))}
    if forms.formset is not None:
        names |= {
            forms.formset.management_form.add_prefix(name)
            for name in forms.formset.management_form.fields
        }
    return {name: request.POST.getlist(name) for name in request.POST if name in names}


@require_http_methods(["GET", "HEAD", "POST"])
@patient_area
def intake_step(request: HttpRequest, public_id: UUID, step: int) -> HttpResponse:
    intake = _own_intake(request, public_id)
    if not intake.is_draft:
        messages.info(
            request,
            _("This intake has been submitted; you can read it here but no longer change it."),
        )
        return redirect("intake:detail", public_id=intake.public_id)
    if step not in STEPS:
        raise Http404("No such step.")
    if step == STEP_COUNT:
        return _review_step(request, intake)

    spec = STEPS[step]
    from_review = request.GET.get("review") == "1" or request.POST.get("review") == "1"
    if request.method == "POST":
        action = request.POST.get("action", "next")
        action = action if action in ACTIONS else "next"
        forms = spec.build(intake, request.POST, request.FILES)
        if forms.is_valid():
            try:
                spec.save(intake, forms)
            except ClinicError as error:
                _first_form_error(forms, str(error))
            else:
                return _after_save(request, intake, step, action, from_review)
        services.intake_keep_pending(
            intake=intake, step=step, answers=_typed_answers(request, forms)
        )
        if action == "exit":
            messages.info(
                request,
                _("Saved. Some answers on this step still need attention when you come back."),
            )
            return redirect("intake:home")
        if action == "back":
            messages.info(
                request,
                _(
                    "We kept what you typed on step %(step)s; it still needs a look before you "
                    "submit."
                )
                % {"step": step},
            )
            return redirect(_step_url(intake, step - 1))
    else:
        pending = intake.pending_answers.get(str(step))
        forms = spec.build(intake, MultiValueDict(pending) if pending else None, None)
        if pending:
            forms.is_valid()  # show where the kept answers still need attention
    return _render_step(request, intake, step, forms, from_review=from_review)


def _first_form_error(forms: StepForms, message: str) -> None:
    target = forms.main or (
        forms.formset.forms[0] if forms.formset and forms.formset.forms else None
    )
    if target is not None:
        target.add_error(None, message)


def _after_save(
    request: HttpRequest, intake: Intake, step: int, action: str, from_review: bool
) -> HttpResponse:
    if action == "exit":
        messages.success(
            request,
            _("Saved. You can continue from step %(step)s any time, on any device.")
            % {"step": step},
        )
        return redirect("intake:home")
    if action == "stay":
        messages.success(request, _("Saved."))
        return redirect(_step_url(intake, step))
    if action == "add":  # step 2's "Save and add another area": the new row, open
        query = "?add=1&review=1" if from_review else "?add=1"
        return redirect(f"{_step_url(intake, step)}{query}#another-area")
    if action == "back":
        return redirect(_step_url(intake, max(step - 1, 1)))
    return redirect(_step_url(intake, STEP_COUNT if from_review else step + 1))


def _render_step(
    request: HttpRequest,
    intake: Intake,
    step: int,
    forms: StepForms,
    *,
    from_review: bool,
    **extra: Any,
) -> HttpResponse:
    spec = STEPS[step]
    audit_read(request, action=Action.VIEW, record=intake, patient_id=intake.patient_id)
    context = {
        "intake": intake,
        "step": spec,
        "steps": STEPS.values(),
        "step_count": STEP_COUNT,
        "forms": forms,
        "error_summary": forms.error_summary() if any(f.is_bound for f in forms.all()) else [],
        "from_review": from_review,
        "adding": request.GET.get("add") == "1",
        "offered_options": TreatmentOption.objects.offered(),
        "red_flag_advice": red_flag_advice(intake),
        **forms.extra,
        **extra,
    }
    return render(request, spec.template, context)


def _review_step(request: HttpRequest, intake: Intake) -> HttpResponse:
    consent = services.current_consent()
    minor = services.needs_guardian(intake)
    form = ConsentForm(
        request.POST or None,
        initial={"consent_version": consent.version, "consent_language": consent.language},
        minor=minor,
    )
    if request.method == "POST":
        if request.POST.get("action") == "back":
            return redirect(_step_url(intake, STEP_COUNT - 1))
        if request.POST.get("action") == "exit":
            return redirect("intake:home")
        if form.is_valid():
            data = form.cleaned_data
            signature = services.Signature(
                name=data["signature_name"],
                ip_address=client_ip(request),
                consent_version=data["consent_version"],
                consent_language=data["consent_language"],
                acknowledged_risks=data["acknowledged_risks"],
                acknowledged_cost=data["acknowledged_cost"],
                acknowledged_regulatory=data["acknowledged_regulatory"],
                guardian_name=data.get("guardian_name", ""),
                guardian_relationship=data.get("guardian_relationship", ""),
                guardian_signature_name=data.get("guardian_signature_name", ""),
            )
            try:
                case = services.intake_submit(intake=intake, signature=signature)
            except ClinicError as error:
                form.add_error(None, str(error))
            else:
                messages.success(
                    request,
                    format_html(
                        _(
                            "Thank you. We received your intake; your reference is "
                            '<span class="text-nowrap">{}</span>. '
                            "We sent a confirmation to your e-mail."
                        ),
                        case.reference,
                    ),
                )
                return redirect("intake:detail", public_id=intake.public_id)
    forms = StepForms(main=form)
    return _render_step(
        request,
        intake,
        STEP_COUNT,
        forms,
        from_review=False,
        consent=consent,
        minor=minor,
        summary=intake_summary(intake),
        missing=services.missing_steps(intake),
    )


@require_safe
@patient_area
def intake_detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    intake = _own_intake(request, public_id)
    if intake.is_draft:
        return redirect(_step_url(intake, intake.next_step))
    return _detail_page(request, intake)


def _case_consultation(case: Case) -> Consultation | None:
    """The case's consultation that is booked, under way or done (not a cancelled
    one or a missed one, after which the front desk books again)."""
    return (
        case.consultations.filter(
            state__in=[
                Consultation.State.BOOKED,
                Consultation.State.CHECKED_IN,
                Consultation.State.COMPLETED,
            ]
        )
        .select_related("physician__physician_profile", "consultation_type")
        .order_by("-starts_at")
        .first()
    )


def _detail_page(
    request: HttpRequest,
    intake: Intake,
    *,
    answering: InformationRequest | None = None,
    form: InformationAnswerForm | None = None,
) -> HttpResponse:
    """The submitted intake, with an answer form (the one being answered, if any,
    keeps what the patient typed) for each of the physician's requests."""
    requests = [
        (
            r,
            form
            if answering and r.pk == answering.pk
            else InformationAnswerForm(prefix=str(r.public_id)),
        )
        for r in intake.case.information_requests.select_related("asked_by__physician_profile")
    ]
    audit_read(request, action=Action.VIEW, record=intake, patient_id=intake.patient_id)
    return render(
        request,
        "intake/detail.html",
        {
            "intake": intake,
            "case": intake.case,
            "summary": intake_summary(intake),
            "requests": requests,
            "red_flag_advice": red_flag_advice(intake),
            "decisions": patient_decisions(intake.case),
            "consultation": _case_consultation(intake.case),
        },
    )


@require_POST
@patient_area
def information_answer(request: HttpRequest, public_id: UUID, request_id: UUID) -> HttpResponse:
    intake = _own_intake(request, public_id)
    info_request = get_object_or_404(InformationRequest, public_id=request_id, case__intake=intake)
    form = InformationAnswerForm(request.POST, prefix=str(info_request.public_id))
    if form.is_valid():
        try:
            cases.information_request_answer(
                request=info_request,
                patient=signed_in_user(request),
                answer=form.cleaned_data["answer"],
            )
        except ClinicError as error:
            form.add_error("answer", str(error))
        else:
            messages.success(request, _("Thank you; your physician has your answer."))
            return redirect("intake:detail", public_id=intake.public_id)
    return _detail_page(request, intake, answering=info_request, form=form)


@require_POST
@patient_area
def imaging_file_remove(request: HttpRequest, public_id: UUID, file_id: UUID) -> HttpResponse:
    intake = _own_intake(request, public_id)
    try:
        services.imaging_file_remove(intake=intake, file_id=str(file_id))
    except ClinicError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, _("The file was removed."))
    return redirect(_step_url(intake, 6))


@require_safe
@clinical_record_area
def imaging_file(request: HttpRequest, file_id: UUID) -> FileResponse:
    """An uploaded report or image, to the people allowed to see its intake only."""
    record = get_object_or_404(ImagingFile.objects.select_related("intake"), public_id=file_id)
    if not may_read_clinical_record(signed_in_user(request), record.intake):
        raise Http404("No such file.")
    audit_read(request, action=Action.DOWNLOAD, record=record, patient_id=record.intake.patient_id)
    # Always a download (never shown inside our pages), with nosniff from the
    # SecurityMiddleware and a sandbox in case a browser opens it anyway.
    response = FileResponse(
        record.file.open("rb"),
        content_type=record.content_type,
        as_attachment=True,
        filename=record.original_name,
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'"
    return response
