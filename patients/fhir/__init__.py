"""The FHIR R4 export: one child's pump record as the hospital's EHR reads it (docs/fhir.md)."""
