from django.contrib import messages
from django.contrib.auth import login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_safe

from clinic.access import role_required
from clinic.errors import ClinicError
from clinic.forms import PatientSignupForm
from clinic.roles import Role
from clinic.services import patient_account_create


@require_safe
@role_required(Role.PATIENT)
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/home.html")


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
            )
        except ClinicError as error:  # the address is taken (the service checks it)
            form.add_error("email", f"{error} Log in, or reset your password.")
        else:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
            messages.success(
                request,
                f"Welcome, {user.get_short_name()}. We sent a link to {user.email}: "
                "please open it to confirm your address.",
            )
            return redirect("intake:home")
    return render(request, "intake/signup.html", {"form": form})
