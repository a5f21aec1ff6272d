from django.urls import path

from intake.views import patient

app_name = "intake"
urlpatterns = [
    path("", patient.home, name="home"),
    path("start/", patient.signup, name="signup"),
]
