from django.urls import path

from care import views, views_followups

app_name = "care"
urlpatterns = [
    # The physician (their own cases).
    path("cases/<uuid:public_id>/plan/", views.plan, name="plan"),
    path("plans/<uuid:public_id>/share/", views.plan_share, name="plan_share"),
    path("plans/<uuid:public_id>/revise/", views.plan_revise, name="plan_revise"),
    path("plan-items/<uuid:public_id>/", views.plan_item, name="plan_item"),
    path(
        "procedures/<uuid:public_id>/draft-instructions/",
        views.instructions_draft,
        name="instructions_draft",
    ),
    path(
        "procedures/<uuid:public_id>/approve-instructions/",
        views.instructions_approve,
        name="instructions_approve",
    ),
    path("procedures/<uuid:public_id>/record/", views.procedure_record, name="procedure_record"),
    path("instructions/<uuid:public_id>/", views.instruction_edit, name="instruction_edit"),
    path("instructions/<uuid:public_id>/drop/", views.instruction_drop, name="instruction_drop"),
    # Physicians and clinic admins: who received a donor-tissue lot.
    path("recall/", views.lot_recall, name="lot_recall"),
    # The patient.
    path("my/<uuid:public_id>/", views.patient_care, name="patient_care"),
    path("my/<uuid:public_id>/ask-estimate/", views.estimate_request, name="estimate_request"),
    path(
        "estimates/<uuid:public_id>/received/",
        views.estimate_acknowledge,
        name="estimate_acknowledge",
    ),
    path(
        "procedures/<uuid:public_id>/instructions-read/",
        views.instructions_acknowledge,
        name="instructions_acknowledge",
    ),
    path("followups/<uuid:public_id>/", views_followups.followup, name="followup"),
    path(
        "followup-preferences/",
        views_followups.followup_preferences,
        name="followup_preferences",
    ),
    # The patient, physicians and the front desk.
    path("estimates/<uuid:public_id>/", views.estimate, name="estimate"),
    path("estimates/<uuid:public_id>/pdf/", views.estimate_download, name="estimate_download"),
    # The physician: a follow-up that needed attention, reviewed.
    path(
        "followups/<uuid:public_id>/reviewed/",
        views_followups.followup_review,
        name="followup_review",
    ),
    # Physicians and clinic admins.
    path("outcomes/", views_followups.outcomes_report, name="outcomes"),
    # The front desk.
    path("followup-calls/", views_followups.followup_calls, name="followup_calls"),
    path("followups/<uuid:public_id>/call/", views_followups.followup_call, name="followup_call"),
    path("estimates/", views.estimates_list, name="estimates"),
    path("cases/<uuid:public_id>/issue-estimate/", views.estimate_issue, name="estimate_issue"),
    path("cases/<uuid:public_id>/book-procedure/", views.procedure_book, name="procedure_book"),
]
