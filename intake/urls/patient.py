from django.urls import path

from intake.views import patient

app_name = "intake"
urlpatterns = [
    path("", patient.home, name="home"),
    path("start/", patient.signup, name="signup"),
    path("new/", patient.intake_new, name="new"),
    path("<uuid:public_id>/", patient.intake_detail, name="detail"),
    path("<uuid:public_id>/step/<int:step>/", patient.intake_step, name="step"),
    path(
        "<uuid:public_id>/files/<uuid:file_id>/remove/",
        patient.imaging_file_remove,
        name="file_remove",
    ),
    path(
        "<uuid:public_id>/requests/<uuid:request_id>/answer/",
        patient.information_answer,
        name="information_answer",
    ),
    path("files/<uuid:file_id>/", patient.imaging_file, name="file"),
    path(
        "consultations/<uuid:public_id>/change/",
        patient.consultation_change,
        name="consultation_change",
    ),
    path(
        "consultations/<uuid:public_id>/calendar.ics",
        patient.consultation_calendar,
        name="consultation_calendar",
    ),
]
