"""The physician's pages (issue 4): who may open them, the queue's tabs, filters,
sorting and constant query count, the case page, and every action through HTTP."""

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from clinic.roles import Role
from intake import cases
from intake.models import Case, CaseFlag, Complaint, Intake
from tests.factories import UserFactory, submitted_case
from treatments.models import BodyRegion, Contraindication, Priority, TreatmentOption


def new_patient():
    return UserFactory.create(role=Role.PATIENT)


@pytest.fixture
def case(patient, physician):
    return submitted_case(patient)


def case_url(name, case):
    return reverse(f"review:{name}", args=[case.public_id])


ACTION_URLS = ["claim", "release", "reassign", "ask", "imaging", "candidate", "not_candidate"]


# --- Who may open what ---------------------------------------------------------------


def test_visitors_are_sent_to_log_in(client, case):
    for url in [reverse("review:queue"), case_url("case", case), case_url("case_print", case)]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    for name in ACTION_URLS:
        assert client.post(case_url(name, case)).status_code == 302
    assert case.events.count() == 2  # submitted, routed: nothing else happened


@pytest.mark.parametrize("persona", ["patient", "front_desk", "clinic_admin"])
def test_only_physicians_open_the_queue_and_case_pages(request, login, case, persona):
    client = login(request.getfixturevalue(persona))
    assert client.get(reverse("review:queue")).status_code == 403
    assert client.get(case_url("case", case)).status_code == 403
    assert client.get(case_url("case_print", case)).status_code == 403
    assert client.post(reverse("review:next")).status_code == 403
    for name in ACTION_URLS:
        assert client.post(case_url(name, case)).status_code == 403
    case.refresh_from_db()
    assert case.state == Case.State.SUBMITTED


def test_any_physician_reads_any_case_but_acts_only_on_their_own(login, case, other_physician):
    client = login(other_physician)
    page = client.get(case_url("case", case)).content.decode()
    assert case.reference in page
    assert "only they can act on it" in page
    assert "Start review" not in page
    response = client.post(case_url("claim", case), follow=True)
    assert "already in the queue of" in response.content.decode()
    response = client.post(case_url("ask", case), {"ask-question": "Hello?"})
    assert response.status_code == 200
    assert "already in the queue of" in response.content.decode()
    assert "Hello?" in response.content.decode()  # what was typed is kept
    case.refresh_from_db()
    assert (case.state, case.assigned_to_id) == (Case.State.SUBMITTED, case.assigned_to_id)


def test_pages_and_actions_refuse_the_wrong_method(login, physician, case):
    client = login(physician)
    assert client.post(reverse("review:queue")).status_code == 405
    assert client.get(reverse("review:next")).status_code == 405
    for name in ACTION_URLS:
        assert client.get(case_url(name, case)).status_code == 405
    assert client.post(case_url("case", case)).status_code == 405


def test_an_unknown_case_is_404(login, physician):
    client = login(physician)
    url = reverse("review:case", args=["00000000-0000-0000-0000-000000000000"])
    assert client.get(url).status_code == 404


# --- The queue -----------------------------------------------------------------------


def test_my_cases_and_the_pool(login, physician, other_physician):
    mine = submitted_case(new_patient())
    pooled = submitted_case(new_patient(), route=False)
    theirs = submitted_case(new_patient(), region="spine")
    client = login(physician)
    page = client.get(reverse("review:queue")).content.decode()
    assert mine.reference in page
    assert pooled.reference not in page and theirs.reference not in page
    assert "My cases <span" in page
    pool = client.get(reverse("review:queue"), {"tab": "pool"}).content.decode()
    assert pooled.reference in pool
    assert mine.reference not in pool and theirs.reference not in pool


def test_a_queue_row_shows_what_the_physician_needs(login, physician):
    case = submitted_case(
        new_patient(),
        screening={"platelet-disorder": "yes", "anticoagulant": "yes"},
        symptoms={"hot-swollen-joint-with-fever": "yes"},
    )
    page = login(physician).get(reverse("review:queue")).content.decode()
    row = page[page.index(case.reference) :].split("</tr>")[0]
    for text in ["Knee (left)", "6 / 8", "Hard stop", "Caution", "Urgent", "Submitted"]:
        assert text in row
    assert case.intake.legal_name in row
    age = case.intake.age_on(timezone.localdate())
    assert f", {age}<" in row


def test_an_overdue_case_is_marked(login, physician, case):
    page = login(physician).get(reverse("review:queue")).content.decode()
    assert ">Overdue</span>" not in page
    Case.objects.filter(pk=case.pk).update(review_due_at=timezone.now() - timedelta(1))
    page = login(physician).get(reverse("review:queue")).content.decode()
    assert ">Overdue</span>" in page


def test_the_queue_is_sorted_by_priority_then_waiting_time(login, physician):
    routine_old = submitted_case(new_patient())
    routine_new = submitted_case(new_patient())
    urgent = submitted_case(new_patient(), symptoms={"new-weakness-or-numbness": "yes"})
    high = submitted_case(new_patient(), screening={"platelet-disorder": "yes"})
    Case.objects.filter(pk=routine_old.pk).update(waiting_since=timezone.now() - timedelta(days=3))
    page = login(physician).get(reverse("review:queue")).content.decode()
    order = sorted([routine_old, routine_new, urgent, high], key=lambda c: page.index(c.reference))
    assert order == [urgent, high, routine_old, routine_new]
    page = login(physician).get(reverse("review:queue"), {"sort": "newest"}).content.decode()
    assert page.index(high.reference) < page.index(urgent.reference)


def test_filters_narrow_the_queue(login, physician):
    knee = submitted_case(new_patient())
    hip = submitted_case(new_patient(), region="hip", screening={"platelet-disorder": "yes"})
    caution = submitted_case(new_patient(), screening={"anticoagulant": "yes"})
    client = login(physician)
    queue = reverse("review:queue")

    def shown(**params):
        page = client.get(queue, params).content.decode()
        return {c for c in (knee, hip, caution) if c.reference in page}

    hip_id = BodyRegion.objects.get(slug="hip").pk
    assert shown(body_region=hip_id) == {hip}
    assert shown(priority=Priority.HIGH) == {hip}
    assert shown(flags="hard_stop") == {hip}
    assert shown(flags="any") == {hip, caution}
    assert shown(flags="none") == {knee}
    cases.case_claim(case=knee, physician=physician)
    assert shown(state="under_review") == {knee}
    assert shown() == {knee, hip, caution}


@pytest.mark.parametrize(
    "params",
    [
        {"state": "bogus"},
        {"priority": "abc"},
        {"body_region": "999999"},
        {"body_region": "x' OR 1=1 --"},
        {"flags": "<script>"},
        {"sort": "-id; DROP TABLE intake_case"},
        {"sort": "patient__password"},
        {"page": "-1"},
        {"page": "99999"},
        {"page": "abc"},
        {"tab": "everyone"},
    ],
)
def test_hostile_queue_parameters_never_fail(login, physician, case, params):
    response = login(physician).get(reverse("review:queue"), params)
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main")[1]


def _clone_cases(template: Case, count: int, *, assigned_to) -> None:
    """``count`` more submitted cases like ``template``, in bulk (the queue test needs
    a thousand; building each through the services would take minutes)."""
    now = timezone.now()
    start = Case.objects.count()
    source = template.intake
    intakes = Intake.objects.bulk_create(
        Intake(
            patient=source.patient,
            status=Intake.Status.SUBMITTED,
            legal_name=f"Patient {n}",
            date_of_birth=source.date_of_birth,
            submitted_at=now,
            signed_at=now,
        )
        for n in range(count)
    )
    main = template.main_complaint
    assert main is not None
    complaints = Complaint.objects.bulk_create(
        Complaint(
            intake=intake,
            body_region_id=main.body_region_id,
            side=main.side,
            condition_id=main.condition_id,
            started_on=main.started_on,
            onset=main.onset,
            pain_now=n % 11,
            pain_worst_week=10,
        )
        for n, intake in enumerate(intakes)
    )
    made = Case.objects.bulk_create(
        Case(
            intake=intake,
            patient=source.patient,
            reference=f"RM-T{start + n:07d}",
            assigned_to=assigned_to,
            priority=(n % 3) + 1,
            main_complaint=complaint,
            body_region_id=main.body_region_id,
            waiting_since=now,
            review_due_at=now,
        )
        for n, (intake, complaint) in enumerate(zip(intakes, complaints, strict=True))
    )
    rule = Contraindication.objects.get(slug="cancer")
    CaseFlag.objects.bulk_create(
        CaseFlag(
            case=case,
            contraindication=rule,
            rule=rule.name,
            severity=rule.severity,
            patient_answer="yes",
        )
        for case in made[::2]
    )


@pytest.mark.parametrize("tab", ["mine", "pool"])
def test_the_queue_page_takes_the_same_queries_for_10_cases_as_for_1000(
    login, physician, django_assert_num_queries, tab
):
    owner = physician if tab == "mine" else None
    template = submitted_case(new_patient())
    client = login(physician)
    _clone_cases(template, 9, assigned_to=owner)
    with CaptureQueriesContext(connection) as small:
        assert client.get(reverse("review:queue"), {"tab": tab}).status_code == 200
    _clone_cases(template, 990, assigned_to=owner)
    with django_assert_num_queries(len(small), exact=True):
        response = client.get(reverse("review:queue"), {"tab": tab, "flags": "any", "page": 3})
        assert response.status_code == 200
    assert "Page 3 of" in response.content.decode()


# --- The case page ---------------------------------------------------------------------


def test_the_case_page_summarises_the_intake_for_a_physician(login, physician, patient):
    earlier = submitted_case(patient)
    cases.case_mark_not_candidate(
        case=earlier, physician=physician, reason="Too soon after surgery", message_to_patient="."
    )
    case = submitted_case(patient, screening={"platelet-disorder": "yes"})
    page = login(physician).get(case_url("case", case)).content.decode()
    for text in [
        "BMI <strong>25.1</strong>",  # 72.5 kg, 170 cm
        "Platelet dysfunction or critically low platelets",
        "Hard stop",
        "Have you been told you have a platelet disorder",  # the question behind the flag
        "Le QD, DeBerardino TM",  # the rule's published source
        "Routed to ",  # the history keeps the routing reason
        earlier.reference,
        "Too soon after surgery",  # an earlier case's decision
        "Printable view",
    ]:
        assert text in page, text


def test_the_printable_view(login, physician, case):
    page = login(physician).get(case_url("case_print", case)).content.decode()
    assert case.reference in page
    assert "data-print" in page
    assert "Confidential" in page


def test_case_page_queries_do_not_grow_with_its_history(
    login, physician, case, patient, django_assert_num_queries
):
    client = login(physician)
    with CaptureQueriesContext(connection) as before:
        client.get(case_url("case", case))
    for n in range(5):
        asked = cases.case_request_information(case=case, physician=physician, question=f"Q{n}")
        cases.information_request_answer(request=asked, patient=patient, answer=f"A{n}")
    with django_assert_num_queries(len(before), exact=True):
        client.get(case_url("case", case))


# --- Actions through HTTP --------------------------------------------------------------


def test_next_case_claims_and_opens_it(login, physician, case):
    client = login(physician)
    response = client.post(reverse("review:next"))
    assert response["Location"] == case_url("case", case)
    case.refresh_from_db()
    assert case.state == Case.State.UNDER_REVIEW
    response = client.post(reverse("review:next"), follow=True)
    assert "No unclaimed cases" in response.content.decode()


def test_claim_release_and_reassign(login, physician, other_physician, case):
    client = login(physician)
    assert client.post(case_url("claim", case))["Location"] == case_url("case", case)
    case.refresh_from_db()
    assert case.state == Case.State.UNDER_REVIEW
    response = client.post(case_url("claim", case), follow=True)
    assert "You cannot claim case" in response.content.decode()
    client.post(case_url("release", case))
    case.refresh_from_db()
    assert case.assigned_to is None
    response = client.post(case_url("reassign", case), {"reassign-physician": other_physician.pk})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    client.post(
        case_url("reassign", case),
        {"reassign-physician": other_physician.pk, "reassign-reason": "Spine expert"},
    )
    case.refresh_from_db()
    assert case.assigned_to == other_physician


def test_a_candidate_with_a_hard_stop_asks_for_the_override_and_keeps_the_form(
    login, physician, patient
):
    case = submitted_case(patient, screening={"platelet-disorder": "yes"})
    client = login(physician)
    prp = case.flags.get().options.get(slug="prp")
    post = {
        "candidate-options": [prp.pk],
        "candidate-consultation_type": "new",
        "candidate-consultation_mode": "video",
        "candidate-urgency": "soon",
        "candidate-message_to_patient": "We would like to see you.",
    }
    response = client.post(case_url("candidate", case), post)
    page = response.content.decode()
    assert response.status_code == 200
    assert "give your reason to override it" in page
    assert "We would like to see you." in page
    assert re.search(r'value="video"[^>]*checked', page)
    case.refresh_from_db()
    assert case.state == Case.State.SUBMITTED
    post["candidate-override_reason"] = "Oncologist agrees; in remission."
    response = client.post(case_url("candidate", case), post)
    assert response["Location"] == case_url("case", case)
    case.refresh_from_db()
    assert case.state == Case.State.CONSULT_REQUESTED


def test_a_candidate_reaches_the_front_desk_list_and_the_patients_page(
    login, physician, front_desk, patient, case, client
):
    post = {
        "candidate-options": [_option_pk("prp")],
        "candidate-consultation_type": "new",
        "candidate-consultation_mode": "in_person",
        "candidate-urgency": "routine",
        "candidate-message_to_patient": "PRP looks promising for your knee.",
        "candidate-internal_note": "Check platelet count.",
    }
    login(physician).post(case_url("candidate", case), post)
    desk = login(front_desk).get(reverse("frontdesk:home")).content.decode()
    assert case.reference in desk
    assert "New consultation, in person" in desk
    assert "Check platelet count" not in desk  # internal, clinical
    mine = login(patient).get(reverse("intake:detail", args=[case.intake.public_id]))
    text = mine.content.decode()
    assert "would like to see you for a new consultation (in person)" in text
    assert "PRP looks promising for your knee." in text
    assert "Check platelet count" not in text
    assert "Consultation to be booked" in text


def _option_pk(slug):
    return TreatmentOption.objects.get(slug=slug).pk


def test_needs_imaging_and_not_a_candidate_through_the_pages(login, physician, patient):
    first = submitted_case(patient)
    client = login(physician)
    knee = BodyRegion.objects.get(slug="knee").pk
    client.post(case_url("imaging", first), {"imaging-modality": "mri", "imaging-region": knee})
    first.refresh_from_db()
    assert first.state == Case.State.IMAGING_REQUESTED
    page = login(patient).get(reverse("intake:detail", args=[first.intake.public_id]))
    assert "MRI of the knee" in page.content.decode()

    second = submitted_case(UserFactory.create(role=Role.PATIENT))
    client = login(physician)
    response = client.post(case_url("not_candidate", second), {"decline-reason": "Surgery"})
    assert "This field is required" in response.content.decode()
    client.post(
        case_url("not_candidate", second),
        {"decline-reason": "Needs surgery", "decline-message_to_patient": "See a surgeon."},
    )
    second.refresh_from_db()
    assert second.state == Case.State.NOT_CANDIDATE


def test_extra_fields_in_a_post_change_nothing(login, physician, other_physician, case):
    login(physician).post(
        case_url("ask", case),
        {
            "ask-question": "Which knee?",
            "state": "not_candidate",
            "assigned_to": other_physician.pk,
            "priority": 1,
            "patient": other_physician.pk,
        },
    )
    case.refresh_from_db()
    assert case.state == Case.State.INFO_REQUESTED
    assert case.assigned_to == physician
    assert case.priority == Priority.ROUTINE


# --- Red flags on the patient's side ------------------------------------------------------


def test_the_patient_is_told_to_seek_urgent_care(login, physician):
    patient = new_patient()
    case = submitted_case(patient, symptoms={"saddle-numbness-bladder-bowel": "yes"})
    page = login(patient).get(reverse("intake:detail", args=[case.intake.public_id]))
    assert "Please go to an emergency department now" in page.content.decode()
