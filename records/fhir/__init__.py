"""FHIR R4 resources built from our records with the pinned ``fhir.resources`` R4B
models (``builders``), put together in Bundles or NDJSON (``records.services``),
and checked against the value sets we bind (``checks``)."""
