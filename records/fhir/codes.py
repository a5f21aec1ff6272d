"""Code systems and the profiles we claim, by their canonical URLs.

Standard systems only where we hold a correct code: ICD-10-CM from the catalog,
LOINC for the vital signs, the 0-10 pain score and document types, SNOMED CT for
laterality qualifiers. Everything the clinic itself defines (body regions,
instruments, screening rules) is in a CodeSystem of our own under ``OUR_BASE``."""

# Our own canonical base: a name, not a server (no FHIR API is served from it).
OUR_BASE = "https://fhir.clinic-intake.example"


def ours(name: str) -> str:
    """The canonical URL of one of our own code systems."""
    return f"{OUR_BASE}/CodeSystem/{name}"


def our_identifier(name: str) -> str:
    return f"{OUR_BASE}/identifier/{name}"


def our_extension(name: str) -> str:
    return f"{OUR_BASE}/StructureDefinition/{name}"


def our_questionnaire(slug: str) -> str:
    return f"{OUR_BASE}/Questionnaire/{slug}"


ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
NPI = "http://hl7.org/fhir/sid/us-npi"

CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
US_CORE_CONDITION_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
FLAG_CATEGORY = "http://terminology.hl7.org/CodeSystem/flag-category"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
V2_CONTACT_ROLE = "http://terminology.hl7.org/CodeSystem/v2-0131"
V3_ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
US_CORE_DOCREF_CATEGORY = (
    "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
)
CAREPLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"

# LOINC codes we emit, with their display names.
BODY_HEIGHT = ("8302-2", "Body height")
BODY_WEIGHT = ("29463-7", "Body weight")
BMI = ("39156-5", "Body mass index (BMI) [Ratio]")
PAIN_SEVERITY = ("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
PATIENT_CONSENT = ("59284-0", "Patient Consent")
IMAGING_STUDY_DOCUMENT = ("18748-4", "Diagnostic imaging study")

# SNOMED CT laterality qualifier values (the side of a complaint).
LATERALITY = {
    "left": ("7771000", "Left"),
    "right": ("24028007", "Right"),
    "both": ("51440002", "Right and left"),
}


def _us_core(name: str) -> str:
    return f"http://hl7.org/fhir/us/core/StructureDefinition/{name}"


PROFILE = {
    "Patient": _us_core("us-core-patient"),
    "Practitioner": _us_core("us-core-practitioner"),
    "RelatedPerson": _us_core("us-core-relatedperson"),
    "Condition": _us_core("us-core-condition-problems-health-concerns"),
    "AllergyIntolerance": _us_core("us-core-allergyintolerance"),
    "QuestionnaireResponse": _us_core("us-core-questionnaireresponse"),
    "score": _us_core("us-core-observation-screening-assessment"),
    "height": _us_core("us-core-body-height"),
    "weight": _us_core("us-core-body-weight"),
    "bmi": _us_core("us-core-bmi"),
    "DocumentReference": _us_core("us-core-documentreference"),
    "CarePlan": _us_core("us-core-careplan"),
    "Procedure": _us_core("us-core-procedure"),
}
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
PROVENANCE_AGENT_TYPE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
