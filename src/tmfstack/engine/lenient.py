"""Validators that are lenient where the v5 files are wrong, and strict everywhere else.

The v5 files require ``@type`` on every object of a request body, merge-patch bodies included
(tmf-conventions §10.12), and some create schemas require what the server sets (TMF620 v5
``lastUpdate``, ``lifecycleStatus``: §10.13). Rather than validate strictly and sift the errors
(which costs an error walk on every such body), the schema itself is relaxed once: ``@type`` is
required nowhere (but in the ``if`` of a discriminator dispatch, which must keep telling the
options apart), and the named attributes not at the top of the one definition. A body that
passes is then accepted on the validator's fast path; what fails is a real error.
"""

from __future__ import annotations

from typing import Any

import jsonschema_rs

_SUFFIX = "__lenient"


def _untyped(node: Any, in_if: bool = False) -> Any:
    """A copy of ``node`` in which no ``required`` names ``@type`` (an ``if``'s is kept)."""
    if isinstance(node, list):
        return [_untyped(v, in_if) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _untyped(v, in_if or k == "if") for k, v in node.items()}
    required = out.get("required")
    if not in_if and isinstance(required, list) and "@type" in required:
        out["required"] = [r for r in required if r != "@type"]
    return out


def _relax_top(defs: dict[str, Any], name: str, optional: frozenset[str], depth: int = 0) -> str:
    """A copy of definition ``name`` (and of what it inherits through ``allOf``) that does not
    require ``optional``; returns the copy's name."""
    copy_name = f"{name}{_SUFFIX}"
    if copy_name in defs or depth > 10:
        return copy_name
    node = dict(defs.get(name, {}))
    defs[copy_name] = node  # before the parts: an inheritance cycle ends here
    if isinstance(node.get("required"), list):
        node["required"] = [r for r in node["required"] if r not in optional]
    parts = []
    for part in node.get("allOf", []):
        part = dict(part)
        ref = part.get("$ref")
        if isinstance(ref, str) and len(part) == 1:
            part["$ref"] = "#/definitions/" + _relax_top(defs, ref.rsplit("/", 1)[-1], optional, depth + 1)
        elif isinstance(part.get("required"), list):
            part["required"] = [r for r in part["required"] if r not in optional]
        parts.append(part)
    if parts:
        node["allOf"] = parts
    return copy_name


def lenient_validator(contract: Any, definition: str, optional: frozenset[str] = frozenset()) -> Any:
    """The validator of ``definition`` of ``contract`` (a v5 one), relaxed as the module says;
    built once per definition and set of optional attributes."""
    key = (definition, optional)
    cache: dict[Any, Any] = contract._validators
    found = cache.get(key)
    if found is None:
        relaxed = cache.get(_SUFFIX)
        if relaxed is None:
            relaxed = cache[_SUFFIX] = _untyped(contract.definitions)
        defs = dict(relaxed)
        top = _relax_top(defs, definition, optional) if optional else definition
        schema = {"$ref": f"#/definitions/{top}", "definitions": defs}
        found = cache[key] = jsonschema_rs.Draft7Validator(schema)
    return found
