from django.urls import path

from intake.views import review

app_name = "review"
urlpatterns = [path("", review.queue, name="queue")]
