from django.urls import path

from intake.views import review

app_name = "review"
urlpatterns = [
    path("", review.queue, name="queue"),
    path("next/", review.next_case, name="next"),
    path("calendar/", review.calendar, name="calendar"),
    path("cases/<uuid:public_id>/", review.case_detail, name="case"),
    path("cases/<uuid:public_id>/print/", review.case_print, name="case_print"),
    path("cases/<uuid:public_id>/claim/", review.case_claim, name="claim"),
    path("cases/<uuid:public_id>/release/", review.case_release, name="release"),
    path("cases/<uuid:public_id>/reassign/", review.case_reassign, name="reassign"),
    path("cases/<uuid:public_id>/ask/", review.case_ask, name="ask"),
    path("cases/<uuid:public_id>/imaging/", review.case_request_imaging, name="imaging"),
    path("cases/<uuid:public_id>/candidate/", review.case_candidate, name="candidate"),
    path("cases/<uuid:public_id>/not-candidate/", review.case_not_candidate, name="not_candidate"),
]
