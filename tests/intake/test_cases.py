"""The physician's transitions on a case (issue 4): each legal move, every illegal
one, who may act, the patient's e-mails, and two physicians racing for one case."""

import threading

import pytest
from django.db import transaction

from clinic.errors import ClinicError
from clinic.models import OutboundEmail
from clinic.roles import Role
from intake import cases
from intake.models import Case, CaseEvent, InformationRequest, ReviewDecision
from tests.concurrency import race
from tests.factories import PhysicianFactory, UserFactory, submitted_case
from treatments.models import BodyRegion, Priority, TreatmentOption

S = Case.State


def candidate(*slugs: str, **overrides):
    values = {
        "options": list(TreatmentOption.objects.filter(slug__in=slugs or ("prp",))),
        "consultation_type": ReviewDecision.ConsultationType.NEW,
        "consultation_mode": ReviewDecision.ConsultationMode.IN_PERSON,
        "urgency": ReviewDecision.Urgency.ROUTINE,
        "message_to_patient": "Let's talk about PRP.",
    }
    return cases.CandidateDecision(**(values | overrides))


@pytest.fixture
def case(patient, physician):
    return submitted_case(patient)


@pytest.fixture
def pool_case(patient, physician):
    return submitted_case(patient, route=False)


def kinds(case):
    return list(case.events.values_list("kind", flat=True))


def test_claim_starts_the_review(case, physician):
    cases.case_claim(case=case, physician=physician)
    case.refresh_from_db()
    assert (case.state, case.assigned_to) == (S.UNDER_REVIEW, physician)
    assert kinds(case)[-1] == CaseEvent.Kind.CLAIMED


def test_claiming_from_the_pool_makes_it_yours(pool_case, other_physician):
    cases.case_claim(case=pool_case, physician=other_physician)
    pool_case.refresh_from_db()
    assert pool_case.assigned_to == other_physician
    assert pool_case.events.get(kind=CaseEvent.Kind.CLAIMED).note == "From the unassigned pool."


def test_another_physicians_case_can_be_read_but_not_acted_on(case, physician, other_physician):
    name = physician.physician_profile.display_name
    with pytest.raises(ClinicError, match=f"already in the queue of {name}"):
        cases.case_claim(case=case, physician=other_physician)
    cases.case_claim(case=case, physician=physician)
    for act in (
        lambda: cases.case_claim(case=case, physician=other_physician),
        lambda: cases.case_request_information(case=case, physician=other_physician, question="?"),
        lambda: cases.case_mark_candidate(
            case=case, physician=other_physician, decision=candidate()
        ),
        lambda: cases.case_release(case=case, physician=other_physician),
    ):
        with pytest.raises(ClinicError, match=f"already taken by {name}"):
            act()
    case.refresh_from_db()
    assert case.assigned_to == physician


def test_only_physicians_act(case, front_desk, clinic_admin):
    for person in (front_desk, clinic_admin):
        with pytest.raises(ClinicError, match="Only physicians"):
            cases.case_claim(case=case, physician=person)
    with pytest.raises(ClinicError, match="Only physicians"):
        cases.case_claim_next(physician=front_desk)


def test_release_puts_the_case_back_in_the_pool(case, physician):
    cases.case_claim(case=case, physician=physician)
    cases.case_release(case=case, physician=physician)
    case.refresh_from_db()
    assert (case.state, case.assigned_to) == (S.SUBMITTED, None)
    assert kinds(case)[-1] == CaseEvent.Kind.RELEASED


def test_reassign_needs_a_reason_and_a_physician(case, physician, other_physician, front_desk):
    with pytest.raises(ClinicError, match="why"):
        cases.case_reassign(case=case, physician=physician, to=other_physician, reason=" ")
    with pytest.raises(ClinicError, match="active physician"):
        cases.case_reassign(case=case, physician=physician, to=front_desk, reason="Desk")
    with pytest.raises(ClinicError, match="another physician"):
        cases.case_reassign(case=case, physician=physician, to=physician, reason="Me")
    cases.case_claim(case=case, physician=physician)
    cases.case_reassign(case=case, physician=physician, to=other_physician, reason="Spine first")
    case.refresh_from_db()
    assert (case.state, case.assigned_to) == (S.SUBMITTED, other_physician)
    event = case.events.get(kind=CaseEvent.Kind.REASSIGNED)
    assert event.note.endswith("Spine first")
    assert (event.from_state, event.to_state) == (S.UNDER_REVIEW, S.SUBMITTED)


def test_reassigning_an_urgent_case_e_mails_the_new_physician(physician, other_physician):
    case = submitted_case(
        UserFactory.create(role=Role.PATIENT), symptoms={"new-weakness-or-numbness": "yes"}
    )
    assert case.priority == Priority.URGENT
    cases.case_reassign(case=case, physician=physician, to=other_physician, reason="Spine")
    assert OutboundEmail.objects.filter(
        to=other_physician.email, subject__startswith="Urgent case"
    ).exists()


def test_a_question_waits_for_the_patient_and_the_answer_returns_the_case(case, patient, physician):
    before = case.waiting_since
    asked = cases.case_request_information(case=case, physician=physician, question="Which knee?")
    case.refresh_from_db()
    assert (case.state, case.assigned_to) == (S.INFO_REQUESTED, physician)
    cases.information_request_answer(request=asked, patient=patient, answer="The left")
    case.refresh_from_db()
    assert (case.state, case.assigned_to) == (S.UNDER_REVIEW, physician)
    assert case.answer_received_at is not None
    assert case.waiting_since > before
    assert kinds(case)[-2:] == [CaseEvent.Kind.INFO_REQUESTED, CaseEvent.Kind.INFO_PROVIDED]
    # The next decision clears the 'answered' mark.
    cases.case_mark_candidate(case=case, physician=physician, decision=candidate())
    case.refresh_from_db()
    assert case.answer_received_at is None


def test_needs_imaging_tells_the_patient_which_study(case, patient, physician):
    knee = BodyRegion.objects.get(slug="knee")
    cases.case_request_imaging(
        case=case,
        physician=physician,
        modality="mri",
        region=knee,
        message_to_patient="Weight-bearing if possible.",
    )
    case.refresh_from_db()
    assert case.state == S.IMAGING_REQUESTED
    request = case.information_requests.get()
    assert request.kind == InformationRequest.Kind.IMAGING
    assert "MRI of the knee" in request.question
    assert "Weight-bearing" in request.question
    cases.information_request_answer(request=request, patient=patient, answer="Booked for 3 Dec")
    case.refresh_from_db()
    assert case.state == S.UNDER_REVIEW


def test_candidate_puts_the_case_on_the_front_desks_list(case, physician):
    decision = cases.case_mark_candidate(
        case=case, physician=physician, decision=candidate("prp", "dextrose-prolotherapy")
    )
    case.refresh_from_db()
    assert case.state == S.CONSULT_REQUESTED
    assert list(Case.objects.to_schedule()) == [case]
    assert {o.slug for o in decision.options.all()} == {"prp", "dextrose-prolotherapy"}
    assert case.events.last().note.startswith("Candidate for ")


def test_a_hard_stop_needs_an_override_reason(patient, physician):
    case = submitted_case(patient, screening={"platelet-disorder": "yes"})
    with pytest.raises(ClinicError, match="Hard stop"):
        cases.case_mark_candidate(case=case, physician=physician, decision=candidate("prp"))
    case.refresh_from_db()
    assert case.state == S.SUBMITTED
    assert not case.decisions.exists()
    # Dextrose is not among the options the platelet rule applies to: no override needed.
    cases.case_mark_candidate(
        case=case, physician=physician, decision=candidate("dextrose-prolotherapy")
    )


@pytest.mark.parametrize(
    "blank",
    ["   ", "\t\n", "\u00a0\u2003", "\u200b\u200b", " \u200d\ufeff "],
    ids=["spaces", "tab and newline", "no-break and em spaces", "zero-width", "joiners"],
)
def test_a_blank_override_reason_is_refused_by_the_service(patient, physician, blank):
    """The form strips the reason, but the service is the rule: whitespace, or
    characters that show nothing, is no reason to override a hard stop."""
    case = submitted_case(patient, screening={"platelet-disorder": "yes"})
    with pytest.raises(ClinicError, match="give your reason to override it"):
        cases.case_mark_candidate(
            case=case, physician=physician, decision=candidate("prp", override_reason=blank)
        )
    case.refresh_from_db()
    assert case.state == S.SUBMITTED
    assert not case.decisions.exists()


def test_an_override_with_a_reason_is_recorded(patient, physician):
    case = submitted_case(patient, screening={"platelet-disorder": "yes"})
    decision = cases.case_mark_candidate(
        case=case,
        physician=physician,
        decision=candidate("prp", override_reason="Platelet count normal on recent labs."),
    )
    assert decision.override_reason.startswith("Platelet count normal")
    assert "Hard stop overridden" in case.events.last().note


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"options": []}, "at least one"),
        ({"consultation_type": "surgery"}, "consultation type"),
        ({"urgency": "yesterday"}, "how soon"),
    ],
)
def test_a_candidate_decision_must_be_complete(case, physician, overrides, message):
    with pytest.raises(ClinicError, match=message):
        cases.case_mark_candidate(case=case, physician=physician, decision=candidate(**overrides))


def test_not_a_candidate_needs_a_reason_and_a_message(case, physician):
    with pytest.raises(ClinicError, match="reason"):
        cases.case_mark_not_candidate(
            case=case, physician=physician, reason="", message_to_patient="Sorry"
        )
    with pytest.raises(ClinicError, match="message"):
        cases.case_mark_not_candidate(
            case=case, physician=physician, reason="Needs surgery", message_to_patient=" "
        )
    cases.case_mark_not_candidate(
        case=case, physician=physician, reason="Needs surgery", message_to_patient="Please see..."
    )
    case.refresh_from_db()
    assert case.state == S.NOT_CANDIDATE


def test_every_decision_e_mails_the_patient_without_health_details(case, patient, physician):
    asked = cases.case_request_information(case=case, physician=physician, question="Which knee?")
    cases.information_request_answer(request=asked, patient=patient, answer="Left")
    cases.case_mark_candidate(case=case, physician=physician, decision=candidate())
    sent = list(OutboundEmail.objects.filter(to=patient.email).order_by("created_at"))
    assert [e.subject.split(" (")[0] for e in sent[1:]] == [
        "Your physician has a question for you",
        "Your physician has reviewed your intake",
    ]
    for email in sent[1:]:
        assert case.reference in email.subject
        text = email.subject + email.body
        for detail in ("knee", "Knee", "PRP", "Platelet", "Which knee", "Let's talk"):
            assert detail not in text


# Each action, and a way to call it on a case.
ACTIONS = {
    "claim": lambda case, doctor: cases.case_claim(case=case, physician=doctor),
    "release": lambda case, doctor: cases.case_release(case=case, physician=doctor),
    "reassign": lambda case, doctor: cases.case_reassign(
        case=case,
        physician=doctor,
        to=PhysicianFactory.create(regions=["knee"]).user,
        reason="Leave",
    ),
    "ask": lambda case, doctor: cases.case_request_information(
        case=case, physician=doctor, question="Which knee?"
    ),
    "request_imaging": lambda case, doctor: cases.case_request_imaging(
        case=case,
        physician=doctor,
        modality="xray",
        region=BodyRegion.objects.get(slug="knee"),
        message_to_patient="",
    ),
    "candidate": lambda case, doctor: cases.case_mark_candidate(
        case=case, physician=doctor, decision=candidate()
    ),
    "not_candidate": lambda case, doctor: cases.case_mark_not_candidate(
        case=case, physician=doctor, reason="No", message_to_patient="Sorry"
    ),
}
ILLEGAL = [
    (action, state)
    for action in ACTIONS
    for state in S.values
    if state not in cases.TRANSITIONS[action].sources
]


def test_every_physician_action_is_in_the_table():
    assert set(ACTIONS) == set(cases.TRANSITIONS) - {"answer"}


@pytest.mark.parametrize(("action", "state"), ILLEGAL)
def test_an_illegal_transition_is_refused_and_changes_nothing(case, physician, action, state):
    Case.objects.filter(pk=case.pk).update(state=state, assigned_to=physician)
    case.refresh_from_db()
    events = case.events.count()
    with pytest.raises(ClinicError, match=f"You cannot .* case {case.reference}: it is "):
        ACTIONS[action](case, physician)
    case.refresh_from_db()
    assert case.state == state
    assert case.events.count() == events
    assert not case.decisions.exists()


def test_answering_a_case_that_no_longer_waits_only_records_the_answer(case, patient, physician):
    asked = cases.case_request_information(case=case, physician=physician, question="Which knee?")
    Case.objects.filter(pk=case.pk).update(state=S.NOT_CANDIDATE)
    cases.information_request_answer(request=asked, patient=patient, answer="Left")
    case.refresh_from_db()
    assert case.state == S.NOT_CANDIDATE


def test_next_case_takes_the_most_urgent_unclaimed_one(physician, other_physician):
    patients = [UserFactory.create(role=Role.PATIENT) for _ in range(4)]
    routine = submitted_case(patients[0])
    urgent_pool = submitted_case(
        patients[1], route=False, symptoms={"hot-swollen-joint-with-fever": "yes"}
    )
    theirs = submitted_case(
        patients[2], region="spine", symptoms={"hot-swollen-joint-with-fever": "yes"}
    )
    assert theirs.assigned_to == other_physician
    high = submitted_case(patients[3], screening={"platelet-disorder": "yes"})
    taken = [cases.case_claim_next(physician=physician) for _ in range(4)]
    assert [c.pk if c else None for c in taken] == [urgent_pool.pk, high.pk, routine.pk, None]
    assert all(c.assigned_to == physician for c in taken if c)


# --- Two physicians at the same moment ---------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_physicians_claiming_one_pool_case_exactly_one_wins():
    # The physicians join after routing ran on commit, so the case is in the pool.
    case = submitted_case(UserFactory.create(role=Role.PATIENT))
    assert case.assigned_to is None
    doctors = [PhysicianFactory.create(regions=["knee"]).user for _ in range(2)]

    results = race(lambda i: cases.case_claim(case=case, physician=doctors[i]))

    errors = [r for r in results if isinstance(r, BaseException)]
    assert len(errors) == 1
    assert isinstance(errors[0], ClinicError)
    case.refresh_from_db()
    winner = case.assigned_to
    assert winner is not None and winner in doctors
    assert str(errors[0]) == (
        f"Case {case.reference} is already taken by {winner.physician_profile.display_name}."
    )
    assert case.events.filter(kind=CaseEvent.Kind.CLAIMED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_physicians_deciding_one_pool_case_exactly_one_wins():
    # The physicians join after routing ran on commit, so the case is in the pool.
    case = submitted_case(UserFactory.create(role=Role.PATIENT))
    assert case.assigned_to is None
    doctors = [PhysicianFactory.create(regions=["knee"]).user for _ in range(2)]

    def decide(i: int) -> object:
        if i == 0:
            return cases.case_mark_candidate(case=case, physician=doctors[0], decision=candidate())
        return cases.case_mark_not_candidate(
            case=case, physician=doctors[1], reason="No", message_to_patient="Sorry"
        )

    results = race(decide)
    assert sum(isinstance(r, ClinicError) for r in results) == 1
    assert "already taken by" in str(next(r for r in results if isinstance(r, ClinicError)))
    assert ReviewDecision.objects.filter(case=case).count() == 1


@pytest.mark.django_db(transaction=True)
def test_control_without_the_lock_both_claims_succeed():
    """The same race against a claim that reads without a lock: both physicians are
    told they have the case, so the lock in ``case_claim`` is what prevents it."""
    # The physicians join after routing ran on commit, so the case is in the pool.
    case = submitted_case(UserFactory.create(role=Role.PATIENT))
    assert case.assigned_to is None
    doctors = [PhysicianFactory.create(regions=["knee"]).user for _ in range(2)]
    both_read = threading.Barrier(2)

    def unlocked_claim(i: int) -> object:
        with transaction.atomic():
            current = Case.objects.get(pk=case.pk)  # no select_for_update
            both_read.wait()
            if current.assigned_to_id is not None or current.state != S.SUBMITTED:
                raise ClinicError("already taken")
            current.assigned_to, current.state = doctors[i], S.UNDER_REVIEW
            current.save(update_fields=["assigned_to", "state"])
            return doctors[i]

    results = race(unlocked_claim)
    assert not any(isinstance(r, BaseException) for r in results)
    assert set(results) == set(doctors)  # both "won": a lost update


@pytest.mark.django_db(transaction=True)
def test_parallel_next_case_clicks_take_different_cases():
    made = [submitted_case(UserFactory.create(role=Role.PATIENT)).pk for _ in range(4)]
    doctors = [PhysicianFactory.create(regions=["knee"]).user for _ in range(4)]
    results = race(lambda i: cases.case_claim_next(physician=doctors[i]), n=4)
    assert not any(isinstance(r, BaseException) for r in results)
    assert sorted(r.pk for r in results if isinstance(r, Case)) == sorted(made)
