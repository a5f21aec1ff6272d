from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from clinic import views
from clinic.forms import AdminLoginForm, LoginForm, OutboxPasswordResetForm

admin.site.site_header = "Clinic Intake administration"
admin.site.site_title = "Clinic Intake admin"
admin.site.login_form = AdminLoginForm

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("accounts/home/", views.role_home, name="role_home"),
    path("accounts/verify/resend/", views.verify_email_resend, name="verify_email_resend"),
    path("accounts/verify/<uidb64>/<token>/", views.verify_email, name="verify_email"),
    path(
        "accounts/password_reset/",
        auth_views.PasswordResetView.as_view(form_class=OutboxPasswordResetForm),
        name="password_reset",
    ),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("accounts/two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("accounts/two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path("accounts/two-factor/recovery/", views.two_factor_recovery, name="two_factor_recovery"),
    path("accounts/session/", views.session, name="session"),
    path("accounts/language/", views.language_set, name="language_set"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("audit/", views.audit_log, name="audit_log"),
    path("intake/", include("intake.urls.patient")),
    path("review/", include("intake.urls.review")),
    path("frontdesk/", include("intake.urls.frontdesk")),
    path("care/", include("care.urls")),
    path("records/", include("records.urls")),
    path("admin/", admin.site.urls),
]
