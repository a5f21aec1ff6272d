from django.urls import path

from intake.views import frontdesk

app_name = "frontdesk"
urlpatterns = [path("", frontdesk.home, name="home")]
