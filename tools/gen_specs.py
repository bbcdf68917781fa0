"""Derive tmfstack's compact contract files from the official TM Forum OpenAPI files.

Reads ``../shared/specs/<file>`` (never committed) and writes
``src/tmfstack/_generated/<key>.json``: the base path, the operations of each
resource, the listener event names and the schema definitions stripped of
prose (descriptions and examples), which is what the engine validates against.

    python tools/gen_specs.py            # regenerate the contract of every spec an API module names
    python tools/gen_specs.py --check    # exit 1 when a generated file is stale

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

ROOT = Path(__file__).resolve().parent.parent
SPECS_DIR = ROOT.parent / "shared" / "specs"
OUT_DIR = ROOT / "src" / "tmfstack" / "_generated"

API_DIR = ROOT / "src" / "tmfstack" / "apis"
#: the spec file an API module names: ``ApiDecl.build("TMF641-ServiceOrdering-v4.1.0.swagger.json", ...)``
_BUILD = re.compile(r"ApiDecl\.build\(\s*(?:#.*\n\s*)*[\"']([^\"']+)[\"']")  # comment lines may come first
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


def derive(spec: dict[str, Any], source: str, key: str = "") -> dict[str, Any]:
    resources: dict[str, dict[str, Any]] = {}
    children: dict[str, dict[str, dict[str, Any]]] = {}
    listeners: list[str] = []
    for path, ops in spec["paths"].items():
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


def render(key: str, source: str) -> str:
    spec = json.loads((SPECS_DIR / source).read_text(encoding="utf-8"))
    return json.dumps(derive(spec, source, key), indent=1, sort_keys=True) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when a generated file is stale")
    args = parser.parse_args()
    stale = []
    for key, source in discover().items():
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
