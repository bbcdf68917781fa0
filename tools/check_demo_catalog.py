"""Check the TMF620 v4 demo catalog file against the official spec and itself.

For every entity in ``src/tmfstack/apis/catalog/demo_catalog.json`` (minus its
``id``) this validates against ``<Entity>_Create`` from the official Swagger file,
flags properties the spec does not define (the spec never sets
``additionalProperties``, so plain validation accepts any typo), and checks that
every reference between catalog entities points to an entity of the right type
in the same file with the same name.

    python tools/check_demo_catalog.py [path/to/file.json]    # exit 1 on any problem
"""

from __future__ import annotations

import copy
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT.parent / "shared" / "specs" / "TMF620-ProductCatalog-v4.1.0.swagger.json"
DEMO = ROOT / "src" / "tmfstack" / "apis" / "catalog" / "demo_catalog.json"

#: import-file key -> entity @type, in the required key order
ENTITIES = {
    "category": "Category",
    "productSpecification": "ProductSpecification",
    "productOfferingPrice": "ProductOfferingPrice",
    "productOffering": "ProductOffering",
    "catalog": "Catalog",
}
LIFECYCLE = ("In study", "In design", "In test", "Active", "Launched", "Retired", "Obsolete")
SERVER_SET = {"href", "lastUpdate"}

#: entity type -> (path to a reference, referred entity type); "[]" marks an array
REFS: dict[str, list[tuple[str, str]]] = {
    "Category": [("subCategory[]", "Category"), ("productOffering[]", "ProductOffering")],
    "ProductSpecification": [
        ("bundledProductSpecification[]", "ProductSpecification"),
        ("productSpecificationRelationship[]", "ProductSpecification"),
    ],
    "ProductOfferingPrice": [
        ("popRelationship[]", "ProductOfferingPrice"),
        ("bundledPopRelationship[]", "ProductOfferingPrice"),
        ("prodSpecCharValueUse[].productSpecification", "ProductSpecification"),
    ],
    "ProductOffering": [
        ("productSpecification", "ProductSpecification"),
        ("productOfferingPrice[]", "ProductOfferingPrice"),
        ("category[]", "Category"),
        ("productOfferingRelationship[]", "ProductOffering"),
        ("bundledProductOffering[]", "ProductOffering"),
        ("prodSpecCharValueUse[].productSpecification", "ProductSpecification"),
    ],
    "Catalog": [("category[]", "Category")],
}
#: keys a reference may carry besides id/name/@referredType (relationship and bundle attributes)
REF_EXTRA = {"relationshipType", "role", "validFor", "lifecycleStatus", "bundledProductOfferingOption"}


def strict(definitions: dict[str, Any]) -> dict[str, Any]:
    """A copy of the definitions in which every object schema refuses unknown properties."""
    out = copy.deepcopy(definitions)
    for schema in out.values():
        if "properties" in schema:
            schema["additionalProperties"] = False
    return out


def validator(definitions: dict[str, Any], name: str) -> jsonschema_rs.Draft4Validator:
    schema = {"$ref": f"#/definitions/{name}", "definitions": definitions}
    return jsonschema_rs.Draft4Validator(schema, validate_formats=True)


def walk(node: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Yield (json path, value) for the references at ``path`` (dotted, "[]" for arrays)."""
    head, _, rest = path.partition(".")
    many = head.endswith("[]")
    value = node.get(head.removesuffix("[]")) if isinstance(node, dict) else None
    if value is None:
        return
    items = list(enumerate(value)) if many and isinstance(value, list) else [(None, value)]
    for i, item in items:
        where = f"{head.removesuffix('[]')}" + (f"[{i}]" if i is not None else "")
        if rest:
            for sub, found in walk(item, rest):
                yield f"{where}.{sub}", found
        else:
            yield where, item


def server_keys(node: Any, path: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in SERVER_SET:
                yield f"{path}.{key}".lstrip(".")
            yield from server_keys(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from server_keys(value, f"{path}[{i}]")


def check(doc: Any, definitions: dict[str, Any]) -> list[str]:
    if not isinstance(doc, dict) or list(doc) != list(ENTITIES):
        found = list(doc) if isinstance(doc, dict) else type(doc).__name__
        return [f"top level must be an object with keys {list(ENTITIES)} in that order, found {found}"]
    loose = {t: validator(definitions, f"{t}_Create") for t in ENTITIES.values()}
    tight_defs = strict(definitions)
    tight = {t: validator(tight_defs, f"{t}_Create") for t in ENTITIES.values()}

    problems: list[str] = []
    index: dict[str, dict[str, dict[str, Any]]] = {t: {} for t in ENTITIES.values()}
    seen: set[str] = set()
    for key, kind in ENTITIES.items():
        for n, entity in enumerate(doc[key]):
            label = f"{key}[{n}] {entity.get('id', '?')!s}" if isinstance(entity, dict) else f"{key}[{n}]"
            if not isinstance(entity, dict) or not isinstance(entity.get("id"), str):
                problems.append(f"{label}: must be an object with a string id")
                continue
            if entity["id"] in seen:
                problems.append(f"{label}: duplicate id")
            seen.add(entity["id"])
            index[kind][entity["id"]] = entity
            if entity.get("@type") != kind:
                problems.append(f"{label}: @type is {entity.get('@type')!r}, expected {kind!r}")
            if entity.get("lifecycleStatus") not in LIFECYCLE:
                problems.append(
                    f"{label}: lifecycleStatus {entity.get('lifecycleStatus')!r} is not one of {', '.join(LIFECYCLE)}"
                )
            problems += [f"{label}: {where} is set by the server" for where in server_keys(entity)]
            body = {k: v for k, v in entity.items() if k != "id"}
            errors = list(loose[kind].iter_errors(body))
            for err in errors:
                problems.append(f"{label}: /{'/'.join(map(str, err.instance_path))}: {err.message}")
            if not errors:
                for err in tight[kind].iter_errors(body):
                    problems.append(
                        f"{label}: /{'/'.join(map(str, err.instance_path))}: not in the spec: {err.message}"
                    )

    for key, kind in ENTITIES.items():
        for entity in index[kind].values():
            label = f"{key} {entity['id']}"
            for path, target in REFS[kind]:
                for where, ref in walk(entity, path):
                    problems += check_ref(label, where, ref, target, index)
            problems += check_char_uses(label, entity, index["ProductSpecification"])
            if kind == "Category":
                problems += check_category(label, entity, index["Category"])
            if kind in ("ProductSpecification", "ProductOffering"):
                bundled = "bundledProductSpecification" if kind == "ProductSpecification" else "bundledProductOffering"
                if bool(entity.get("isBundle")) != bool(entity.get(bundled)):
                    problems.append(f"{label}: isBundle must be true exactly when {bundled} is non-empty")
            if kind == "ProductOffering" and not entity.get("isBundle") and "productSpecification" not in entity:
                problems.append(f"{label}: a non-bundle offering needs a productSpecification")
    return problems


def check_ref(label: str, where: str, ref: Any, target: str, index: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
    if not isinstance(ref, dict) or not isinstance(ref.get("id"), str):
        return [f"{label}: {where} is not a reference with an id"]
    extra = set(ref) - {"id", "name", "@referredType"} - REF_EXTRA
    problems = [f"{label}: {where} carries {sorted(extra)}; references use id, name, @referredType"] if extra else []
    found = index[target].get(ref["id"])
    if found is None:
        return [*problems, f"{label}: {where} refers to unknown {target} {ref['id']!r}"]
    if "name" in ref and ref["name"] != found["name"]:
        problems.append(f"{label}: {where} name {ref['name']!r} differs from {target} name {found['name']!r}")
    if "@referredType" in ref and ref["@referredType"] != target:
        problems.append(f"{label}: {where} @referredType {ref['@referredType']!r}, expected {target!r}")
    return problems


def check_char_uses(label: str, entity: dict[str, Any], specs: dict[str, dict[str, Any]]) -> list[str]:
    """prodSpecCharValueUse must name a characteristic of its spec and narrow its listed values."""
    problems: list[str] = []
    default_spec = entity.get("productSpecification", {}).get("id")
    for n, use in enumerate(entity.get("prodSpecCharValueUse", [])):
        spec = specs.get(use.get("productSpecification", {}).get("id", default_spec))
        if spec is None:
            continue  # the reference check reports it
        chars = {c.get("name"): c for c in spec.get("productSpecCharacteristic", [])}
        char = chars.get(use.get("name"))
        if char is None:
            problems.append(
                f"{label}: prodSpecCharValueUse[{n}] {use.get('name')!r} is not a characteristic of {spec['id']}"
            )
            continue
        allowed = [v["value"] for v in char.get("productSpecCharacteristicValue", []) if "value" in v]
        for value in use.get("productSpecCharacteristicValue", []):
            if allowed and value.get("value") not in allowed:
                problems.append(
                    f"{label}: prodSpecCharValueUse[{n}] {use['name']!r} value {value.get('value')!r} "
                    f"is not among {spec['id']}'s values {allowed}"
                )
    return problems


def check_category(label: str, cat: dict[str, Any], cats: dict[str, dict[str, Any]]) -> list[str]:
    problems: list[str] = []
    parent = cat.get("parentId")
    if bool(cat.get("isRoot")) == bool(parent):
        problems.append(f"{label}: isRoot must be true exactly when there is no parentId")
    if parent is not None:
        owner = cats.get(parent)
        if owner is None:
            problems.append(f"{label}: parentId refers to unknown Category {parent!r}")
        elif cat["id"] not in {s.get("id") for s in owner.get("subCategory", [])}:
            problems.append(f"{label}: parent {parent} does not list it in subCategory")
    for sub in cat.get("subCategory", []):
        child = cats.get(sub.get("id"))
        if child is not None and child.get("parentId") != cat["id"]:
            problems.append(f"{label}: subCategory {child['id']} has parentId {child.get('parentId')!r}")
    return problems


def main(argv: list[str]) -> int:
    path = Path(argv[0]) if argv else DEMO
    definitions = json.loads(SPEC.read_text(encoding="utf-8"))["definitions"]
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"cannot read {path}: {exc}", file=sys.stderr)
        return 1
    problems = check(doc, definitions)
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print(f"{path.name}: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    counts = ", ".join(f"{len(doc[key])} {key}" for key in ENTITIES)
    print(f"{path.name}: OK ({counts})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
