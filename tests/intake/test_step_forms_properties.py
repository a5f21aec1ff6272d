"""Property-based tests of every intake step: whatever a patient (or anyone holding
their session) sends, a step never fails with a server error and never saves a row
that breaks the models' rules or the clinical rules the step forms enforce.

Each example starts from a step's valid answers (``step_posts``) and removes some of
them and replaces or adds others with hostile values: huge and odd text, NUL bytes,
numbers that are not numbers, impossible dates, several values where one is
expected, ids of rows that do not exist, forged formset management data and broken
uploads. Every example runs in a savepoint that is rolled back, so examples are
independent of each other and of the order Hypothesis tries them in."""

import io
import operator
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from PIL import Image
from pypdf import PdfWriter

from clinic.errors import ClinicError
from clinic.models import User
from intake import services
from intake.forms import ConsentForm
from intake.models import (
    PAIN_SCALE_MAX,
    TIMES_OF_DAY,
    WEEKDAYS,
    Case,
    Complaint,
    ImagingStudy,
    Instrument,
    Intake,
    PriorTreatment,
    ScreeningAnswer,
)
from intake.scoring import instrument_score
from intake.steps import STEPS
from tests.factories import intake_ready_to_sign
from tests.intake.step_posts import STEP_POSTS, consent_post
from treatments.models import BodyRegion, Condition, TreatmentOption

pytestmark = pytest.mark.django_db

# Enough examples to reach the save path with odd-but-valid answers on every step,
# few enough that the whole file runs in well under a minute. The example database
# is off so runs leave no .hypothesis directory in the checkout.
PROPERTY = settings(
    max_examples=30,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

HOSTILE_TEXT = [
    "",
    " ",
    "\x00",
    "Pat\x00Patient",
    "\u202eevil",
    "\ufeff170",
    "\r\n\t",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "1e308",
    "-1e308",
    "1e-308",
    "-1",
    "-0",
    "0.05",
    "1.5",
    "１７０",  # full-width digits
    "٣",  # Arabic-Indic digit three
    "0x10",
    "99999999999999999999",
    "-9223372036854775809",
    "1000000000",
    "1001",
    "0000-00-00",
    "9999-12-31",
    "2024-02-30",
    "2023-02-29",
    "0001-01-01",
    "1900-01-01",
    "2024-13-01",
    "24-3-1",
    "today",
    "'; DROP TABLE intake_intake; --",
    "' OR '1'='1",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "{{ request.user.password }}",
    "{% debug %}",
    "%s%s%n",
    "true",
    "false",
    "on",
    "None",
    "null",
    "[]",
    "{}",
    "../../etc/passwd",
]


def long_text() -> st.SearchStrategy[str]:
    """Just over the lengths the intake's fields allow, or far beyond (a 5,000-digit
    number is also past what Python will turn into an int)."""
    return st.builds(
        operator.mul,
        st.sampled_from(["x", "é", "💥", "9", "\x00"]),
        st.sampled_from([21, 61, 81, 101, 121, 151, 201, 301, 1_001, 2_001, 4_001, 5_000, 100_000]),
    )


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), "white").save(out, format="PNG")
    return out.getvalue()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (2, 2), "white").save(out, format="JPEG")
    return out.getvalue()


def _pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=72, height=72)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


VALID_FILES = [_png(), _jpeg(), _pdf()]
FILE_HEADS = [b"", b"%PDF-", b"%PDF-1.7\n", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"]


def _mutated(content: bytes, at: int, junk: bytes) -> bytes:
    at %= len(content)
    return content[:at] + junk + content[at + len(junk) :]


def imaging_uploads() -> st.SearchStrategy[SimpleUploadedFile | None]:
    """Nothing, a real tiny PDF/JPEG/PNG, one with bytes overwritten, or garbage behind
    a PDF, JPEG or PNG signature; names as Django's upload parser leaves them."""
    content = st.one_of(
        st.sampled_from(VALID_FILES),
        st.builds(_mutated, st.sampled_from(VALID_FILES), st.integers(0, 10_000), st.binary()),
        st.builds(bytes.__add__, st.sampled_from(FILE_HEADS), st.binary(max_size=2_000)),
    )
    names = st.sampled_from(["scan.pdf", "knee.png", "mri.jpg", "x" * 300 + ".png", "ß😀.exe"])
    content_types = st.sampled_from(["application/pdf", "image/png", "text/html", ""])
    return st.none() | st.builds(SimpleUploadedFile, names, content, content_types)


def domain_values() -> list[str]:
    """Answers that are valid somewhere in the intake, so that examples still reach the
    save path, and valid answers land in the wrong field."""
    today = timezone.localdate()
    choices = (
        Intake.Sex,
        Intake.UnitSystem,
        Intake.ImagingStatus,
        Intake.Payment,
        Complaint.Side,
        Complaint.Onset,
        PriorTreatment.Kind,
        PriorTreatment.Outcome,
        ScreeningAnswer.Answer,
        ImagingStudy.Modality,
    )
    ids = [
        *BodyRegion.objects.values_list("pk", flat=True),
        *Condition.objects.values_list("pk", flat=True),
        *TreatmentOption.objects.values_list("pk", flat=True),
    ]
    return [
        *(value for choice in choices for value in choice.values),
        *(str(pk) for pk in ids),
        "999999999",  # an id nothing has
        *(value for value, _ in WEEKDAYS + TIMES_OF_DAY),
        *(str(n) for n in range(-1, PAIN_SCALE_MAX + 2)),
        "170",
        "72.5",
        "5",
        "7.5",
        "150",
        "2024-03-01",
        today.isoformat(),
        (today + timedelta(days=1)).isoformat(),
        (today - timedelta(days=365 * 121)).isoformat(),
        "+12015550123",
        "Pat Patient",
        "Gail Guardian",
        "yes",
        "no",
        "on",
    ]


def formset_keys(prefix: str, fields: list[str], rows: int) -> list[str]:
    management = ["TOTAL_FORMS", "INITIAL_FORMS", "MIN_NUM_FORMS", "MAX_NUM_FORMS"]
    return [f"{prefix}-{name}" for name in management] + [
        f"{prefix}-{n}-{field}" for n in range(rows) for field in fields
    ]


def step_keys(step: int, valid: dict[str, Any]) -> list[str]:
    """The fields a hostile post may set: the step's own, a few it does not expect, and
    for formsets rows beyond the ones the valid post has."""
    extra = {
        1: ["height_ft", "height_in", "weight_lb"],
        2: formset_keys(
            "complaint",
            [
                "body_region",
                "side",
                "condition",
                "started_on",
                "onset",
                "pain_now",
                "pain_worst_week",
                "DELETE",
            ],
            rows=3,
        ),
        3: ["q0_1", "q1_999"],
        4: formset_keys("prior", ["kind", "tried", "last_on", "details", "outcome"], rows=8),
        5: ["screen_no_such_rule"],
        6: formset_keys(
            "study", ["modality", "body_region", "done_on", "facility", "DELETE"], rows=3
        ),
        7: ["interested_options"],
        8: ["guardian_name", "guardian_relationship", "guardian_signature_name"],
    }[step]
    return sorted({*valid, *extra, "unexpected_field", "csrfmiddlewaretoken"})


def as_post(data: dict[str, Any]) -> MultiValueDict[str, Any]:
    """A browser's form data: every field is a list of strings."""
    return MultiValueDict(
        {
            key: [str(v) for v in value] if isinstance(value, list) else [str(value)]
            for key, value in data.items()
        }
    )


def hostile_posts(
    valid: dict[str, Any], keys: list[str], domain: list[str]
) -> st.SearchStrategy[dict[str, Any]]:
    scalar = st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        long_text(),
        st.sampled_from(domain),
        st.sampled_from(domain).map(lambda answer: f"{answer}\x00"),
        st.text(max_size=40),  # any code point but lone surrogates, NUL included
        st.integers(-(10**30), 10**30).map(str),
        st.floats().map(str),
        st.dates().map(date.isoformat),
    )
    value = st.one_of(scalar, st.lists(scalar, max_size=3))

    def merged(removed: set[str], changed: dict[str, Any]) -> dict[str, Any]:
        kept = {key: v for key, v in valid.items() if key not in removed}
        return {key: v if isinstance(v, list) else str(v) for key, v in (kept | changed).items()}

    return st.builds(
        merged,
        st.sets(st.sampled_from(sorted(valid)), max_size=3),
        st.dictionaries(st.sampled_from(keys), value, max_size=5),
    )


FORMSET_PREFIXES = {2: "complaint", 4: "prior", 6: "study"}


def forged_management_forms(prefix: str) -> st.SearchStrategy[dict[str, Any]]:
    """Form counts a browser never sends: a formset must not build more forms than a
    patient can fill in, nor fail, whatever the counts say."""
    count = st.one_of(
        st.integers(-2, 12).map(str),
        st.sampled_from(["1001", "1000000000", "9" * 30, "", "NaN", "1e3", "٣"]),
        st.lists(st.integers(0, 2_000).map(str), min_size=2, max_size=3),
    )
    return st.fixed_dictionaries(
        {},
        optional={f"{prefix}-TOTAL_FORMS": count, f"{prefix}-INITIAL_FORMS": count},
    )


def draw_post(data: st.DataObject, step: int, valid: dict[str, Any]) -> dict[str, Any]:
    post = data.draw(hostile_posts(valid, step_keys(step, valid), domain_values()), label="post")
    if step in FORMSET_PREFIXES:
        post |= data.draw(forged_management_forms(FORMSET_PREFIXES[step]), label="counts")
    return post


@contextmanager
def rolled_back() -> Iterator[None]:
    with transaction.atomic():
        yield
        transaction.set_rollback(True)


def step_url(intake: Intake, step: int) -> str:
    return reverse("intake:step", kwargs={"public_id": intake.public_id, "step": step})


def same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def assert_saved_rows_valid(intake: Intake) -> None:
    """Every row of the intake passes its model's validation and constraints, and what
    a completed step stored obeys the rules its form enforces."""
    # PostgreSQL checks foreign keys at commit, which a rolled-back example never
    # reaches: check them now.
    connection.check_constraints()
    intake = Intake.objects.get(pk=intake.pk)
    intake.full_clean()
    complaints = list(intake.complaints.select_related("body_region", "condition"))
    responses = list(intake.responses.select_related("instrument"))
    priors = list(intake.prior_treatments.all())
    screening = list(intake.screening_answers.all())
    studies = list(intake.imaging_studies.all())
    files = list(intake.imaging_files.all())
    for row in [*complaints, *responses, *priors, *screening, *studies, *files]:
        row.full_clean()

    today = timezone.localdate()
    done = set(intake.completed_steps)
    assert done <= set(STEPS)
    assert intake.date_of_birth is None or intake.date_of_birth <= today
    if 1 in done:
        assert intake.legal_name.strip()
        assert intake.height_cm is not None
        assert intake.weight_kg is not None
    if 2 in done:
        assert 1 <= len(complaints) <= 6
    for complaint in complaints:
        assert complaint.started_on <= today
        assert 0 <= complaint.pain_now <= complaint.pain_worst_week <= PAIN_SCALE_MAX
        if complaint.condition is not None and complaint.body_region.slug != "other":
            assert complaint.condition.body_region_id == complaint.body_region_id
    if 3 in done:
        asked = Instrument.objects.filter(in_intake=True, is_active=True)
        assert {r.instrument_id for r in responses} == set(asked.values_list("pk", flat=True))
    for response in responses:
        answers = {int(k): v for k, v in response.answers.items()}
        assert response.score == instrument_score(instrument=response.instrument, answers=answers)
    if 4 in done:
        assert sorted(p.kind for p in priors) == sorted(PriorTreatment.Kind.values)
    for prior in priors:
        if not prior.tried:
            assert (prior.last_on, prior.details, prior.outcome) == (None, "", "")
            continue
        assert prior.outcome
        assert prior.last_on is None or prior.last_on <= today
        if prior.kind in {PriorTreatment.Kind.SURGERY, PriorTreatment.Kind.STEROID_INJECTION}:
            assert prior.last_on is not None
    if 5 in done:
        assert intake.current_medicines.strip()
        assert {a.contraindication_id for a in screening} == {
            rule.pk for rule in services.screening_questions()
        }
    if 6 in done:
        assert intake.imaging_status
        assert bool(studies) == (intake.imaging_status == Intake.ImagingStatus.YES)
    assert len(studies) <= 8
    assert all(study.done_on <= today for study in studies)
    if 7 in done:
        assert intake.goals.strip()
        assert intake.preferred_days
        assert set(intake.preferred_days) <= {value for value, _ in WEEKDAYS}
        assert intake.preferred_times
        assert set(intake.preferred_times) <= {value for value, _ in TIMES_OF_DAY}
        assert intake.payment in Intake.Payment.values
        if intake.payment == Intake.Payment.INSURANCE:
            assert intake.insurance_carrier.strip()
        offered = set(TreatmentOption.objects.offered())
        assert set(intake.interested_options.all()) <= offered
    if not intake.is_draft:
        assert intake.signed_at is not None
        assert same_name(intake.signature_name, intake.legal_name)


def start_intake(data: st.DataObject, patient: User) -> Intake:
    """A fresh draft, or one with steps 1-7 already complete (its saved answers become
    the forms' initial data)."""
    if data.draw(st.booleans(), label="steps 1-7 already complete"):
        return intake_ready_to_sign(patient)
    return services.intake_start(patient=patient)


@pytest.fixture
def verified_patient(patient: User) -> User:
    patient.email_verified_at = timezone.now()
    patient.save(update_fields=["email_verified_at"])
    return patient


@pytest.fixture
def patient_client(client: Client, verified_patient: User) -> Client:
    client.force_login(verified_patient)
    return client


@pytest.fixture(autouse=True)
def _private_media(settings: Any, tmp_path: Any) -> None:
    # Uploads that pass are written to disk, and the rollback does not remove files.
    settings.PRIVATE_MEDIA_ROOT = tmp_path / "private-media"


@pytest.mark.parametrize("step", range(1, 8))
@PROPERTY
@given(data=st.data())
def test_a_step_form_never_raises_and_saves_only_valid_rows(
    step: int, data: st.DataObject, verified_patient: User
) -> None:
    spec = STEPS[step]
    with rolled_back():
        post = as_post(draw_post(data, step, STEP_POSTS[step]()))
        files = (
            MultiValueDict({"upload": [upload]})
            if step == 6 and (upload := data.draw(imaging_uploads(), label="upload"))
            else None
        )
        intake = start_intake(data, verified_patient)
        forms = spec.build(intake, post, files)
        valid = forms.is_valid()
        # A forged TOTAL_FORMS must not make the server build more forms than a
        # patient can fill in.
        if forms.formset is not None:
            assert len(forms.formset.forms) <= forms.formset.max_num
        if not valid:
            event("invalid")
            assert forms.error_summary()
            assert_saved_rows_valid(intake)
            return
        try:
            spec.save(intake, forms)
        except ClinicError:
            event("valid, refused by the service")
        else:
            event("saved")
            assert step in Intake.objects.get(pk=intake.pk).completed_steps
        assert_saved_rows_valid(intake)


@pytest.mark.parametrize("step", range(1, 8))
@PROPERTY
@given(data=st.data())
def test_posting_anything_to_a_step_never_fails_and_saves_only_valid_rows(
    step: int, data: st.DataObject, verified_patient: User, patient_client: Client
) -> None:
    with rolled_back():
        post = draw_post(data, step, STEP_POSTS[step]())
        post |= data.draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "action": st.sampled_from(["next", "back", "exit", "stay", "", "delete"]),
                    "review": st.sampled_from(["1", "0", "\x00"]),
                },
            ),
            label="buttons",
        )
        if step == 6 and (upload := data.draw(imaging_uploads(), label="upload")):
            post["upload"] = upload
        intake = start_intake(data, verified_patient)

        response = patient_client.post(step_url(intake, step), post)

        assert response.status_code in {200, 302}
        kept = str(step) in Intake.objects.get(pk=intake.pk).pending_answers
        event(f"status {response.status_code}, answers {'kept' if kept else 'saved'}")
        assert_saved_rows_valid(intake)
        # The answers kept for later must show again without an error.
        assert patient_client.get(step_url(intake, step)).status_code == 200


def consent_keys_and_intake(
    data: st.DataObject, patient: User
) -> tuple[Intake, bool, dict[str, Any]]:
    minor = data.draw(st.booleans(), label="minor")
    born = timezone.localdate() - timedelta(days=365 * (10 if minor else 50))
    intake = intake_ready_to_sign(patient, date_of_birth=born)
    valid = consent_post(intake.legal_name)
    if minor:
        valid |= {
            "guardian_name": "Gail Guardian",
            "guardian_relationship": "Mother",
            "guardian_signature_name": "Gail Guardian",
        }
    return intake, minor, draw_post(data, 8, valid)


def consent_is_valid(post: MultiValueDict[str, Any], intake: Intake, minor: bool) -> bool:
    """Whether a signature should be accepted: the form's rules and the clinic's (the
    patient's and the guardian's names match what they typed, the consent is current)."""
    form = ConsentForm(post, minor=minor)
    if not form.is_valid():
        return False
    signed = form.cleaned_data
    return (
        signed["consent_version"] == services.current_consent().version
        and same_name(signed["signature_name"], intake.legal_name)
        and (
            not minor
            or (
                bool(signed["guardian_name"].strip())
                and bool(signed["guardian_relationship"].strip())
                and same_name(signed["guardian_signature_name"], signed["guardian_name"])
            )
        )
    )


@PROPERTY
@given(data=st.data())
def test_the_consent_form_never_raises_and_signs_only_valid_data(
    data: st.DataObject, verified_patient: User
) -> None:
    with rolled_back():
        intake, minor, raw = consent_keys_and_intake(data, verified_patient)
        post = as_post(raw)
        form = ConsentForm(post, minor=minor)
        if not form.is_valid():
            event("invalid")
            assert form.errors
            assert not consent_is_valid(post, intake, minor)
            return
        signed = form.cleaned_data
        signature = services.Signature(
            name=signed["signature_name"],
            ip_address="203.0.113.9",
            consent_version=signed["consent_version"],
            acknowledged_risks=signed["acknowledged_risks"],
            acknowledged_cost=signed["acknowledged_cost"],
            acknowledged_regulatory=signed["acknowledged_regulatory"],
            guardian_name=signed.get("guardian_name", ""),
            guardian_relationship=signed.get("guardian_relationship", ""),
            guardian_signature_name=signed.get("guardian_signature_name", ""),
        )
        try:
            services.intake_submit(intake=intake, signature=signature)
        except ClinicError:
            event("valid form, refused by the service")
            assert not consent_is_valid(post, intake, minor)
        else:
            event("signed")
            assert consent_is_valid(post, intake, minor)
        assert_saved_rows_valid(intake)


@PROPERTY
@given(data=st.data())
def test_posting_anything_to_the_review_step_never_fails_and_signs_only_valid_data(
    data: st.DataObject, verified_patient: User, patient_client: Client
) -> None:
    with rolled_back():
        intake, minor, post = consent_keys_and_intake(data, verified_patient)
        post |= data.draw(
            st.fixed_dictionaries(
                {}, optional={"action": st.sampled_from(["next", "back", "exit", "", "\x00"])}
            ),
            label="buttons",
        )

        response = patient_client.post(step_url(intake, 8), post)

        assert response.status_code in {200, 302}
        signed = Case.objects.filter(intake=intake).exists()
        event("signed" if signed else f"not signed, status {response.status_code}")
        expected = post.get("action") not in {"back", "exit"} and consent_is_valid(
            as_post(post), intake, minor
        )
        assert signed == expected
        assert_saved_rows_valid(intake)
        follow = step_url(intake, 8) if not signed else response["Location"]
        assert patient_client.get(follow).status_code == 200
