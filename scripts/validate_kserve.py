"""Validate KServe manifests offline against the CRDs' OpenAPI schemas vendored in
deploy/kserve/schemas/ (KServe v0.20.0), strictly: a field the schema does not name is an error,
as `kubectl apply --validate=strict` makes it (the API server would otherwise drop it silently).

    python scripts/validate_kserve.py deploy/kserve/*.yaml
    python scripts/validate_kserve.py --extract CRD.yaml VERSION OUT.json   # re-vendor
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft4Validator

SCHEMAS = Path(__file__).resolve().parent.parent / "deploy" / "kserve" / "schemas"
KINDS = {
    ("serving.kserve.io/v1beta1", "InferenceService"): "inferenceservice-v1beta1.json",
    ("serving.kserve.io/v1alpha1", "ServingRuntime"): "servingruntime-v1alpha1.json",
}
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"


def strict(schema: Any) -> Any:
    """The schema with every object closed: no properties beyond those it names (unless it
    says `x-kubernetes-preserve-unknown-fields` or gives `additionalProperties` itself)."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    closed = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in schema
        and "additionalProperties" not in schema
        and not schema.get("x-kubernetes-preserve-unknown-fields")
    ):
        closed["additionalProperties"] = False
    if "properties" in schema:  # property names are not schemas: keep them as they are
        closed["properties"] = {name: strict(sub) for name, sub in schema["properties"].items()}
    return closed


def validator(file_name: str) -> Draft4Validator:
    schema = json.loads((SCHEMAS / file_name).read_text())
    # The CRD leaves metadata open; the API server needs a name that is a DNS label.
    schema["properties"]["metadata"] = {
        "type": "object",
        "required": ["name"],
        "properties": {"name": {"type": "string", "pattern": DNS_LABEL, "maxLength": 63}},
        "additionalProperties": True,
    }
    schema["required"] = ["apiVersion", "kind", "metadata", "spec"]
    # OpenAPI 3.0's schema objects are JSON Schema draft 4 in their validation keywords.
    return Draft4Validator(strict(schema))


def errors(path: Path) -> list[str]:
    """Every problem of the documents in `path`, as 'file: document n: where: what'."""
    found = []
    validators: dict[str, Draft4Validator] = {}
    for number, document in enumerate(yaml.safe_load_all(path.read_text()), start=1):
        if document is None:
            continue
        where = f"{path}: document {number}"
        if not isinstance(document, dict):
            found.append(f"{where}: not a mapping")
            continue
        file_name = KINDS.get((document.get("apiVersion", ""), document.get("kind", "")))
        if file_name is None:
            found.append(
                f"{where}: {document.get('apiVersion')}/{document.get('kind')} is not a KServe "
                f"kind with a vendored schema ({', '.join(kind for _, kind in KINDS)})"
            )
            continue
        check = validators.get(file_name) or validators.setdefault(file_name, validator(file_name))
        for error in sorted(check.iter_errors(document), key=lambda e: list(e.absolute_path)):
            field = ".".join(str(part) for part in error.absolute_path) or "(top)"
            found.append(f"{where}: {field}: {error.message}")
    return found


def extract(crd: Path, version: str, out: Path) -> None:
    """Vendor the openAPIV3Schema of one version of a CRD, as JSON (one line, keys sorted)."""
    definition = yaml.safe_load(crd.read_text())
    (served,) = [v for v in definition["spec"]["versions"] if v["name"] == version]
    text = json.dumps(served["schema"]["openAPIV3Schema"], separators=(",", ":"), sort_keys=True)
    out.write_text(text + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("manifests", nargs="*", type=Path)
    parser.add_argument("--extract", nargs=3, metavar=("CRD", "VERSION", "OUT"))
    args = parser.parse_args(argv)
    if args.extract:
        crd, version, out = args.extract
        extract(Path(crd), version, Path(out))
        return 0
    problems = [problem for path in args.manifests for problem in errors(path)]
    for problem in problems:
        sys.stderr.write(problem + "\n")
    if not args.manifests:
        sys.stderr.write("no manifest given\n")
        return 2
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
