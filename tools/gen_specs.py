"""Derive tmfstack's compact contract files from the official TM Forum OpenAPI files.

Reads ``../shared/specs/<file>`` (never committed) and writes
``src/tmfstack/_generated/<key>.json``: the base path, the operations of each
resource, the listener event names and the schema definitions stripped of
prose (descriptions and examples), which is what the engine validates against.

    python tools/gen_specs.py            # regenerate the contract of every spec an API module names
    python tools/gen_specs.py --check    # exit 1 when a generated file is stale
    python tools/gen_specs.py --file TMF622-ProductOrdering-v5.0.0.oas.yaml   # one named file only

A v5 file (OpenAPI 3, ``*.oas.yaml``) is converted to Draft 7 JSON Schema; see ``derive_oas3``.

Paths map to resources by shape, and a path of any other shape stops the run (exit 2, naming
it): nothing is dropped or folded silently.

    /<resource>, /<resource>/{id}                          -> resources[<resource>]
    /<parent>/{parentId}/<child>, .../<child>/{id}          -> subResources[<parent>][<child>]
    /listener/<eventName>                                   -> events
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT.parent / "shared" / "specs"
OUT_DIR = ROOT / "src" / "tmfstack" / "_generated"

API_DIR = ROOT / "src" / "tmfstack" / "apis"
#: the spec file an API module names: ``ApiDecl.build("TMF641-ServiceOrdering-v4.1.0.swagger.json", ...)``,
#: or a version ``VersionDecl.build("TMF622-ProductOrdering-v5.0.0.oas.yaml", ...)`` (comment lines may come first)
_BUILD = re.compile(r"(?:ApiDecl|VersionDecl)\.build\(\s*(?:#.*\n\s*)*[\"']([^\"']+)[\"']")
#: an official file's name: TMF number, title, "-v<major>." (``engine/contract.py: contract_key`` agrees)
_SPEC_FILE = re.compile(r"^(TMF\d+)-.+-v(\d+)\.")


def contract_key(spec_file: str) -> str:
    found = _SPEC_FILE.match(spec_file)
    if found is None:
        raise ValueError(f"{spec_file!r} is not an official spec file name (TMFnnn-Title-vN...)")
    return f"{found.group(1).lower()}_v{found.group(2)}"


def discover(api_dir: Path = API_DIR) -> dict[str, str]:
    """Generated key -> official file, for every spec an API module names. Read from the source,
    not imported: a new API's module is generatable before its contract exists."""
    specs: dict[str, str] = {}
    for module in sorted(api_dir.glob("*/tmf*.py")):
        for source in _BUILD.findall(module.read_text(encoding="utf-8")):
            key = contract_key(source)
            if specs.setdefault(key, source) != source:
                raise ValueError(f"{key}: two spec files named ({specs[key]}, {source})")
    return specs


#: operations served beyond the file's, with the reason (README "Spec decisions")
EXTRA_OPERATIONS = {
    # a pool nobody can read is not manageable: GET returns the ResourcePool schema
    ("tmf685_v1", "resourcePool"): ["get", "list"],
    # the file declares the path /availabilityCheck/{id} with no method: read back a check
    ("tmf685_v1", "availabilityCheck"): ["get", "list"],
}

_PROSE = {"description", "example", "examples", "title"}
_METHODS = {"get": "get", "post": "create", "patch": "patch", "delete": "delete", "put": "put"}


def _strip(node: Any) -> Any:
    """Prose out of a schema, but never an attribute: in ``properties`` the keys are names
    (``description``, ``title``, ``example`` are attributes of many TMF entities) and each
    value is a schema; a ``required`` list names attributes too."""
    if isinstance(node, list):
        return [_strip(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for k, v in node.items():
        if k == "properties" and isinstance(v, dict):
            out[k] = {name: _strip(schema) for name, schema in v.items()}
        elif k not in _PROSE:
            out[k] = _strip(v)
    return out


def _sanitise(definitions: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Replace references to definitions the file does not contain by an open schema.

    (TMF685 v1 refers to ``#/definitions/int``, ``ResourceCharacteristic`` and others it never
    defines; the official file cannot be validated against otherwise.) Returns the names replaced.
    """
    missing: set[str] = set()

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/"):
                name = ref.removeprefix("#/definitions/")
                if name not in definitions:
                    missing.add(name)
                    return {}
            return {k: fix(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return fix(definitions), sorted(missing)


class UnmappedPath(ValueError):
    """A path of the official file that no rule of ``_place`` maps: the run stops, naming it."""


def _is_param(segment: str) -> bool:
    return len(segment) > 2 and segment.startswith("{") and segment.endswith("}")


def _is_name(segment: str) -> bool:
    return bool(segment) and not _is_param(segment) and "{" not in segment and "}" not in segment


def _place(path: str) -> tuple[str, str | None, bool]:
    """(resource, parent or None, item path?) of a path; raises UnmappedPath for any other shape."""
    parts = path.strip("/").split("/")
    shape = [_is_name(p) for p in parts]
    params = [_is_param(p) for p in parts]
    if len(parts) in (1, 2) and shape[0] and all(params[1:]):
        return parts[0], None, len(parts) == 2
    if len(parts) in (3, 4) and shape[0] and params[1] and shape[2] and all(params[3:]):
        return parts[2], parts[0], len(parts) == 4
    raise UnmappedPath(
        f"cannot map path {path!r}: expected /<resource>[/{{id}}] or /<parent>/{{parentId}}/<child>[/{{id}}]"
    )


def _operations(paths: dict[str, Any], key: str) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """(resources, sub-resources, listener event names) of a file's ``paths``; the same for both formats."""
    resources: dict[str, dict[str, Any]] = {}
    children: dict[str, dict[str, dict[str, Any]]] = {}
    listeners: list[str] = []
    for path, ops in paths.items():
        parts = path.strip("/").split("/")
        if parts[0] == "listener":
            if len(parts) != 2 or not _is_name(parts[1]):
                raise UnmappedPath(f"cannot map listener path {path!r}: expected /listener/<eventName>")
            listeners.append(parts[1][0].upper() + parts[1][1:])
            continue
        name, parent, item = _place(path)
        table = resources if parent is None else children.setdefault(parent, {})
        entry = table.setdefault(name, {"operations": []})
        for method in ops:
            if method not in _METHODS:
                continue
            op = _METHODS[method]
            if op == "get":
                op = "get" if item else "list"
            entry["operations"].append(op)
    for parent, kids in children.items():
        if parent not in resources:
            raise UnmappedPath(f"sub-resources {sorted(kids)} of {parent!r}, which has no path of its own")
        for entry in kids.values():
            entry["operations"].sort()
    for (api, resource), extra in EXTRA_OPERATIONS.items():
        if api == key:
            entry = resources.setdefault(resource, {"operations": []})
            entry["operations"] = sorted(set(entry["operations"]) | set(extra))
    for entry in resources.values():
        entry["operations"].sort()
    return resources, children, listeners


def derive(spec: dict[str, Any], source: str, key: str = "") -> dict[str, Any]:
    resources, children, listeners = _operations(spec["paths"], key)
    definitions, undefined = _sanitise({name: _strip(d) for name, d in spec["definitions"].items()})
    derived = {
        "source": source,
        "title": spec["info"]["title"],
        "version": spec["info"]["version"],
        "basePath": spec["basePath"].rstrip("/"),
        "resources": resources,
        "events": sorted(listeners),
        "definitions": definitions,
        "undefinedReferences": undefined,
    }
    if children:  # only where the file has them: the other generated files stay as they were
        derived["subResources"] = children
    return derived


# -- OpenAPI 3 (v5) files ------------------------------------------------------------------------------------

#: OAS keywords that are no JSON Schema: ``nullable`` and ``discriminator`` are converted, the others are prose
_OAS_ONLY = {"discriminator", "nullable", "xml", "externalDocs", "deprecated"}
_SCHEMA_MAPS = {"properties", "patternProperties"}
_SCHEMA_ONE = {"items", "additionalProperties", "not"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf"}
#: the plain (non-dispatching) form of a discriminated base: ``Characteristic__base``
BASE_SUFFIX = "__base"


def _name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def to_json_schema(node: Any, split: frozenset[str] = frozenset(), in_all_of: bool = False) -> Any:
    """An OAS 3.0 schema as a Draft 7 one: ``#/components/schemas/X`` -> ``#/definitions/X``, ``nullable``
    as a "null" type, OAS-only keywords out. Walks schema positions only (``properties`` keys are names,
    ``enum``/``default`` values are data). A reference inside ``allOf`` is inheritance: to a base in
    ``split`` it names the base's plain form, not its dispatcher (which would dispatch back to the subclass)."""
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for k, v in node.items():
        if k in _SCHEMA_MAPS and isinstance(v, dict):
            out[k] = {name: to_json_schema(sub, split) for name, sub in v.items()}
        elif k in _SCHEMA_ONE and isinstance(v, dict):
            out[k] = to_json_schema(v, split)
        elif k in _SCHEMA_LISTS and isinstance(v, list):
            out[k] = [to_json_schema(sub, split, in_all_of=k == "allOf") for sub in v]
        elif k == "$ref" and isinstance(v, str) and v.startswith("#/components/schemas/"):
            name = _name(v)
            out[k] = f"#/definitions/{name}{BASE_SUFFIX if in_all_of and name in split else ''}"
        elif k not in _OAS_ONLY:
            out[k] = v
    if node.get("nullable") is True:
        if isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        elif "type" not in out:
            out = {"anyOf": [out, {"type": "null"}]}
    return out


def _mappings(schemas: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Base -> {@type value: schema} of every schema whose discriminator maps a value to another schema
    (a mapping only to itself, ``ProductRef: ProductRef``, needs no dispatch)."""
    found = {}
    for name, schema in schemas.items():
        disc = schema.get("discriminator") or {}
        if disc.get("propertyName", "@type") != "@type":
            raise ValueError(f"{name}: discriminator on {disc['propertyName']!r}, only @type is supported")
        mapping = {value: _name(ref) for value, ref in (disc.get("mapping") or {}).items()}
        if any(target != name for target in mapping.values()):
            found[name] = mapping
    return found


def _target(mappings: dict[str, dict[str, str]], value: str, target: str) -> str:
    """The schema an instance with ``@type: value`` ends at, following dispatchers statically."""
    seen = set()
    while target in mappings:
        if target in seen:
            raise ValueError(f"discriminator mappings of {sorted(seen)} dispatch {value!r} in a cycle")
        seen.add(target)
        nxt = mappings[target].get(value, target)
        if nxt == target:
            return target + BASE_SUFFIX
        target = nxt
    return target


def _dispatcher(name: str, mappings: dict[str, dict[str, str]]) -> dict[str, Any]:
    """OAS discriminator semantics in Draft 7: an ``@type`` the mapping names validates against that schema
    only; any other (an extension type with ``@baseType``) against the plain form ``<name>__base``."""
    node: dict[str, Any] = {"$ref": f"#/definitions/{name}{BASE_SUFFIX}"}
    for value, target in reversed(mappings[name].items()):
        final = _target(mappings, value, target)
        if final != name + BASE_SUFFIX:  # the plain form is the else branch anyway
            node = {
                "if": {"properties": {"@type": {"const": value}}, "required": ["@type"]},
                "then": {"$ref": f"#/definitions/{final}"},
                "else": node,
            }
    return node


def _definitions(schemas: dict[str, Any]) -> dict[str, Any]:
    mappings = _mappings(schemas)
    split = frozenset(mappings)
    out = {}
    for name, schema in schemas.items():
        plain = to_json_schema(_strip(schema), split)
        if name in mappings:
            if "oneOf" in plain:  # not exactly one: an extension type may be valid under several options
                plain["anyOf"] = plain.pop("oneOf")
            out[name + BASE_SUFFIX] = plain
            out[name] = _dispatcher(name, mappings)
        else:
            out[name] = plain
    return out


def _local(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """A requestBody or response, following its ``$ref`` into ``components``."""
    while "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec["components"][section][name]
    return node


def _body_schema(spec: dict[str, Any], node: dict[str, Any] | None, media: tuple[str, ...]) -> str | None:
    content = _local(spec, node).get("content", {}) if node else {}
    for kind in media:
        ref = content.get(kind, {}).get("schema", {}).get("$ref")
        if ref:
            return _name(ref)
    return None


def _resource_schemas(spec: dict[str, Any], resource: str) -> dict[str, str]:
    """The schemas a resource's operations name: create (POST body), patch (PATCH body, merge-patch),
    entity (GET-by-id response, else the POST response: the hub has no GET in most files)."""
    collection = spec["paths"].get(f"/{resource}", {})
    item = spec["paths"].get(f"/{resource}/{{id}}", {})
    found = {
        "create": _body_schema(spec, collection.get("post", {}).get("requestBody"), ("application/json",)),
        "patch": _body_schema(
            spec, item.get("patch", {}).get("requestBody"), ("application/merge-patch+json", "application/json")
        ),
    }
    answers = item.get("get", {}).get("responses", {})
    entity = _body_schema(spec, answers.get("200"), ("application/json",))
    if entity is None:
        answers = collection.get("post", {}).get("responses", {})
        entity = _body_schema(spec, answers.get("201") or answers.get("200"), ("application/json",))
    found["entity"] = entity
    return {k: v for k, v in found.items() if v}


def _base_path(servers: list[dict[str, Any]], major: str) -> str | None:
    """``/tmf-api/<name>/v<major>`` from the first server's url (variables at their default), or None
    when the url names no API (``https://serverRoot``)."""
    if not servers:
        return None
    url = servers[0]["url"]
    for var, decl in (servers[0].get("variables") or {}).items():
        url = url.replace("{" + var + "}", str(decl.get("default", "")))
    segments = [s for s in urlsplit(url).path.split("/") if s]
    if segments[:1] == ["tmf-api"]:
        segments = segments[1:]
    return f"/tmf-api/{segments[0]}/v{major}" if segments else None


def derive_oas3(spec: dict[str, Any], source: str, key: str = "") -> dict[str, Any]:
    resources, children, listeners = _operations(spec["paths"], key)
    for name, entry in resources.items():
        entry["schemas"] = _resource_schemas(spec, name)
    definitions, undefined = _sanitise(_definitions(spec["components"]["schemas"]))
    derived = {
        "source": source,
        "title": spec["info"]["title"],
        "version": spec["info"]["version"],
        "basePath": _base_path(spec.get("servers") or [], contract_key(source).rpartition("_v")[2]),
        "servers": spec.get("servers") or [],
        "draft": 7,
        "resources": resources,
        "events": sorted(listeners),
        "definitions": definitions,
        "undefinedReferences": undefined,
    }
    if children:
        derived["subResources"] = children
    return derived


def load_spec(source: str) -> dict[str, Any]:
    text = (SPECS_DIR / source).read_text(encoding="utf-8")
    if source.endswith((".yaml", ".yml")):
        import yaml  # only the v5 files need it (the ``test`` extra)

        return dict(yaml.load(text, Loader=yaml.CSafeLoader))
    return dict(json.loads(text))


def render(key: str, source: str) -> str:
    spec = load_spec(source)
    derived = derive_oas3(spec, source, key) if "openapi" in spec else derive(spec, source, key)
    return json.dumps(derived, indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a generated file is stale")
    parser.add_argument(
        "--file", action="append", default=[], metavar="NAME", help="only this official file (repeatable)"
    )
    args = parser.parse_args()
    stale = []
    specs = {contract_key(name): name for name in args.file} if args.file else discover()
    for key, source in specs.items():
        target = OUT_DIR / f"{key}.json"
        try:
            text = render(key, source)
        except UnmappedPath as exc:
            print(f"{source}: {exc}", file=sys.stderr)
            return 2
        if args.check:
            if not target.exists() or target.read_text(encoding="utf-8") != text:
                stale.append(target.name)
        else:
            target.write_text(text, encoding="utf-8")
            print(f"wrote {target.relative_to(ROOT)}")
    if stale:
        print("stale generated files: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
