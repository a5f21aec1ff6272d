from django.urls import path

from records import views

app_name = "records"
urlpatterns = [
    path("cases/<uuid:public_id>/fhir/", views.case_fhir, name="case_fhir"),
    path("my-record/", views.my_record, name="my_record"),
    path("my-record/fhir/", views.my_record_fhir, name="my_record_fhir"),
]
