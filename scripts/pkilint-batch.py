#!/usr/bin/env python3
"""Lints every certificate file given (PEM or DER) with pkilint's RFC 5280 linter
(`lint_pkix_cert`'s validator, built once) in one process, the most favourable way to run
pkilint on many files. Prints one JSON line per file: {"file", "findings": [[severity, code]]}.
Used by scripts/bench-lint and by the differential test (docs/lint-differences.md)."""
import json
import sys

from pkilint import loader, report
from pkilint.pkix import certificate, extension, name

validator = certificate.create_pkix_certificate_validator_container(
    certificate.create_decoding_validators(name.ATTRIBUTE_TYPE_MAPPINGS, extension.EXTENSION_MAPPINGS),
    [
        certificate.create_issuer_validator_container([]),
        certificate.create_validity_validator_container(),
        certificate.create_subject_validator_container([]),
        certificate.create_extensions_validator_container([]),
        certificate.create_spki_validator_container([]),
    ],
)
load = loader.RFC5280CertificateDocumentLoader()
out = sys.stdout
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    try:
        doc = load.load_document(data, path)
    except Exception as e:  # noqa: BLE001 - report and go on, as mutual does
        out.write(json.dumps({"file": path, "error": str(e)}) + "\n")
        continue
    results = validator.validate(doc.root)
    findings = [
        [r.finding.severity.name, r.finding.code]
        for v in results
        for r in v.finding_descriptions
    ]
    out.write(json.dumps({"file": path, "findings": findings}) + "\n")
