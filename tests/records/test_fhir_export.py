"""The FHIR export of the demo clinic passes both checks (the R4B models when built,
then our value-set check and medplum's R4 validator), and each check catches the
kind of mistake it is there for."""

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from pydantic import ValidationError

from clinic.models import User
from intake.models import Case
from records import services
from records.fhir import builders, checks, codes
from records.fhir.builders import validated
from tests.records.medplum import medplum_problems


@pytest.fixture
def demo_clinic(db, settings) -> None:
    settings.DEBUG = True  # seed_demo refuses to run otherwise
    call_command("seed_demo")


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("reference"), str):
            yield node["reference"]
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def _entries(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [entry["resource"] for entry in bundle["entry"]]


def test_every_case_and_patient_of_the_demo_clinic_exports_with_no_problems(demo_clinic) -> None:
    bundles = [services.case_bundle(case.pk)[1] for case in Case.objects.order_by("pk")]
    patients = User.objects.filter(cases__isnull=False).distinct()
    for patient in patients:
        bundles.append(services.patient_bundle(patient)[1])
    # Every demo story: each case, and each patient with a case (one case each).
    assert Case.objects.count() >= 8
    assert len(bundles) == Case.objects.count() + patients.count()

    assert checks.check_resources(bundles) == []
    resources = [resource for bundle in bundles for resource in _entries(bundle)]
    problems = medplum_problems([*bundles, *resources])
    assert [p for p in problems if p["errors"]] == []
    # A reference to an entry's urn:uuid full URL does not say the target's type, so
    # medplum warns that it cannot check it; any other warning counts.
    warnings = [w for p in problems for w in p["warnings"]]
    assert [w for w in warnings if 'got "urn:uuid:' not in w["diagnostics"]] == []

    for bundle in bundles:
        full_urls = {entry["fullUrl"] for entry in bundle["entry"]}
        unresolved = [r for r in _references(bundle) if r not in full_urls]
        assert unresolved == [], "a reference that does not resolve inside its Bundle"
    kinds = {resource["resourceType"] for resource in resources}
    assert kinds == set(services.RESOURCE_TYPES)
    loinc = {
        coding["code"]
        for resource in resources
        if resource["resourceType"] == "Observation"
        for coding in resource["code"].get("coding", [])
        if coding["system"] == codes.LOINC
    }
    assert {"8302-2", "29463-7", "39156-5", "72514-3"} <= loinc


def test_the_bulk_export_of_the_demo_clinic_has_no_problems(demo_clinic, tmp_path: Path) -> None:
    out = tmp_path / "export"
    out.mkdir()
    services.fhir_bulk_export(out=out)
    manifest = json.loads((out / "manifest.json").read_text())
    resources: list[dict[str, Any]] = []
    for output in manifest["output"]:
        lines = (out / output["url"]).read_text().splitlines()
        assert len(lines) == output["count"]
        resources.extend(json.loads(line) for line in lines)
    assert checks.check_resources(resources) == []
    assert medplum_problems(resources) == []
    ids = {(r["resourceType"], r["id"]) for r in resources}
    assert len(ids) == len(resources), "a resource written twice"
    held = {f"{kind}/{resource_id}" for kind, resource_id in ids}
    dangling = [ref for ref in _references(resources) if ref not in held]
    assert dangling == [], "a reference to a resource the export does not hold"


def _demo_resource(kind: str) -> dict[str, Any]:
    """The first ``kind`` resource of the demo clinic's cases."""
    for case in Case.objects.order_by("pk"):
        bundle = services.case_bundle(case.pk)[1]
        found = [r for r in _entries(bundle) if r["resourceType"] == kind]
        if found:
            return found[0]
    raise AssertionError(f"no {kind} in the demo clinic")


def test_a_bad_date_is_caught_by_the_models_and_by_medplum(demo_clinic) -> None:
    patient = _demo_resource("Patient") | {"birthDate": "1980-02-30x"}
    with pytest.raises(ValidationError, match="birthDate"):
        validated(patient)
    [problem] = medplum_problems([patient])
    assert [issue["expression"] for issue in problem["errors"]] == ["Patient.birthDate"]


def test_an_unknown_property_is_caught_by_the_models_and_by_medplum(demo_clinic) -> None:
    task = _demo_resource("Task") | {"reviewer": "Dr Lee"}
    with pytest.raises(ValidationError, match="reviewer"):
        validated(task)
    [problem] = medplum_problems([task])
    assert [issue["expression"] for issue in problem["errors"]] == ["Task.reviewer"]


@pytest.mark.parametrize(
    ("kind", "change", "path"),
    [
        ("Patient", {"gender": "femail"}, "gender"),
        ("Task", {"status": "bogus"}, "status"),
        ("Task", {"priority": "whenever"}, "priority"),
        ("Appointment", {"status": "done"}, "status"),
        (
            "Condition",
            {"clinicalStatus": {"coding": [{"system": codes.CONDITION_CLINICAL, "code": "cured"}]}},
            "clinicalStatus.coding",
        ),
        ("Condition", {"code": {"coding": [{"system": codes.ICD10_CM, "code": "knee"}]}}, "coding"),
        ("Patient", {"meta": {}}, "meta.profile"),
    ],
)
def test_a_bad_code_passes_both_validators_and_is_caught_by_our_check(
    demo_clinic, kind: str, change: dict[str, Any], path: str
) -> None:
    broken = _demo_resource(kind) | change
    assert checks.check_resources([_demo_resource(kind)]) == []
    validated(broken)  # the R4B models do not check codes...
    # ...nor does medplum's R4 validator.
    assert [p["errors"] for p in medplum_problems([broken])] in ([], [[]])
    [problem] = checks.check_resources([broken])
    assert (problem.resource_type, problem.path) == (kind, path)


def test_a_problem_inside_a_bundle_is_found(demo_clinic) -> None:
    case = Case.objects.order_by("pk").first()
    assert case is not None
    bundle = services.case_bundle(case.pk)[1]
    bundle["entry"][0]["resource"]["gender"] = "femail"
    assert [p.path for p in checks.check_resources([bundle])] == ["gender"]


def test_each_complaint_is_coded_as_treatments_coding_says(demo_clinic) -> None:
    """The export reads prefetched codes; it must agree with ``billable_code``."""
    from intake.models import Complaint
    from treatments.coding import billable_code

    complaints = list(Complaint.objects.filter(intake__case__isnull=False))
    coded = 0
    for case in Case.objects.order_by("pk"):
        for condition in _entries(services.case_bundle(case.pk)[1]):
            if condition["resourceType"] != "Condition":
                continue
            complaint = next(c for c in complaints if condition["id"] == builders.condition_id(c))
            named = complaint.condition
            expected = billable_code(named, complaint.side) or (named.icd10_code if named else None)
            got = [c["code"] for c in condition["code"].get("coding", [])]
            assert got == ([expected] if expected else [])
            coded += bool(expected)
    assert coded


def test_the_change_history_is_exported_as_provenance_naming_who(patient, physician) -> None:
    from django.urls import reverse

    from tests.conftest import ClinicClient
    from tests.factories import submitted_case

    case = submitted_case(patient, route=False)
    client = ClinicClient()
    client.force_login(physician)
    client.post(reverse("review:claim", kwargs={"public_id": case.public_id}))
    case.refresh_from_db()
    assert case.assigned_to == physician
    bundle = services.case_bundle(case.pk)[1]
    full_url = {
        f"{e['resource']['resourceType']}/{e['resource']['id']}": e["fullUrl"]
        for e in bundle["entry"]
    }
    changes = [
        (p["target"][0]["reference"], p["activity"]["coding"][0]["code"], p["agent"][0]["who"])
        for p in _entries(bundle)
        if p["resourceType"] == "Provenance"
    ]
    task = full_url[f"Task/{case.public_id}"]
    assert (task, "CREATE", {"display": "Clinic Intake (automatic)"}) in changes
    by_physician = {"reference": full_url[f"Practitioner/{physician.public_id}"]}
    assert (task, "UPDATE", by_physician) in changes
    assert checks.check_resources([bundle]) == []
    assert [p for p in medplum_problems(_entries(bundle)) if p["errors"]] == []


def test_without_node_the_validator_skips_here_and_fails_in_ci(monkeypatch) -> None:
    import tests.conftest
    from tests.records import medplum

    monkeypatch.setattr(medplum.shutil, "which", lambda name: None)
    monkeypatch.setattr(tests.conftest, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="node is not installed"):
        medplum_problems([])
    monkeypatch.setattr(tests.conftest, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true requires it"):
        medplum_problems([])


def test_a_recorded_donor_tissue_procedure_exports_with_its_lot_as_a_device(
    demo_clinic,
) -> None:
    from care.demo import DEMO_LOT

    henry = Case.objects.get(patient__email="henry@clinic.example")
    resources = _entries(services.case_bundle(henry.pk)[1])
    (procedure,) = [r for r in resources if r["resourceType"] == "Procedure"]
    (device,) = [r for r in resources if r["resourceType"] == "Device"]
    assert procedure["status"] == "completed"
    assert procedure["meta"]["profile"] == [codes.PROFILE["Procedure"]]
    assert "Allograft" in procedure["code"]["text"]
    assert procedure["bodySite"] == [{"text": "Left knee"}]
    (used,) = procedure["usedReference"]
    assert used["reference"].endswith(device["id"])  # a urn:uuid inside the Bundle
    assert (device["lotNumber"], device["manufacturer"]) == (DEMO_LOT, "Demo Tissue Bank")
    assert checks.check_resources([procedure, device]) == []
    # A bad status on either is caught by our check.
    assert checks.check_resources([procedure | {"status": "done"}])
    assert checks.check_resources([device | {"status": "used"}])


def test_answered_follow_ups_export_as_responses_and_scores_of_their_procedure(
    demo_clinic,
) -> None:
    from care.models import FollowUpResponse

    answered = FollowUpResponse.objects.select_related("followup__series__case").first()
    assert answered is not None  # the demo has answered follow-ups
    case = answered.followup.series.case
    resources = _entries(services.case_bundle(case.pk)[1])
    (procedure,) = [r for r in resources if r["resourceType"] == "Procedure"][:1]
    responses = [
        r
        for r in resources
        if r["resourceType"] == "QuestionnaireResponse"
        and r["questionnaire"] == codes.our_questionnaire("followup")
    ]
    count = FollowUpResponse.objects.filter(followup__series__case=case).count()
    assert len(responses) == count
    pain = [
        r
        for r in resources
        if r["resourceType"] == "Observation"
        and r["code"]["coding"][0]["code"] == codes.PAIN_SEVERITY[0]
        and "partOf" in r
    ]
    assert len(pain) == count
    assert all(p["partOf"][0]["reference"].endswith(procedure["id"]) for p in pain)
    assert checks.check_resources(responses + pain) == []
