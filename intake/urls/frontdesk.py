from django.urls import path

from intake.views import frontdesk

app_name = "frontdesk"
urlpatterns = [
    path("", frontdesk.home, name="home"),
    path("day/", frontdesk.day_view, name="day"),
    path("incomplete/", frontdesk.incomplete, name="incomplete"),
    path(
        "incomplete/<uuid:public_id>/remind/",
        frontdesk.incomplete_remind,
        name="incomplete_remind",
    ),
    path("cases/<uuid:public_id>/book/", frontdesk.book, name="book"),
    path("consultations/<uuid:public_id>/", frontdesk.consultation_detail, name="consultation"),
    path("consultations/<uuid:public_id>/reschedule/", frontdesk.reschedule, name="reschedule"),
    path(
        "consultations/<uuid:public_id>/check-in/",
        frontdesk.consultation_move,
        {"action": "check_in"},
        name="check_in",
    ),
    path(
        "consultations/<uuid:public_id>/complete/",
        frontdesk.consultation_move,
        {"action": "complete"},
        name="complete",
    ),
    path(
        "consultations/<uuid:public_id>/no-show/",
        frontdesk.consultation_move,
        {"action": "no_show"},
        name="no_show",
    ),
    path(
        "consultations/<uuid:public_id>/cancel/",
        frontdesk.consultation_move,
        {"action": "cancel"},
        name="cancel",
    ),
    path(
        "requests/<uuid:public_id>/handled/",
        frontdesk.change_request_handled,
        name="request_handled",
    ),
]
