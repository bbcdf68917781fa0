"""Edits of the v5 (OpenAPI 3.0) files for ``spec_exceptions.SPEC_FIXES`` (a helper module).

The discriminated ``oneOf``s are rewritten by the generator's own converter (``tools/gen_specs.py``,
loaded like tests/versions/support.py does), so the fuzzer checks answers against the schemas the
generated contracts hold, not a second reading of the files.
"""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

_GENERATOR = Path(__file__).resolve().parents[2] / "tools" / "gen_specs.py"
_SCHEMAS = "#/components/schemas/"


@cache
def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_specs_for_fuzz", _GENERATOR)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _draft4(node: Any) -> Any:
    """The generator's Draft 7 output as the Draft 4 that Schemathesis validates OAS 3.0 with: refs back
    under ``components``, ``const`` as a one-value ``enum``, and each ``if``/``then``/``else`` as its
    equivalent ``(if and then) or (not if and else)``."""
    if isinstance(node, list):
        return [_draft4(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _draft4(v) for k, v in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/definitions/"):
        out["$ref"] = _SCHEMAS + ref.removeprefix("#/definitions/")
    if "const" in out:
        out["enum"] = [out.pop("const")]
    if "if" in out:
        cond, then, other = out.pop("if"), out.pop("then", {}), out.pop("else", {})
        out["anyOf"] = [{"allOf": [cond, then]}, {"allOf": [{"not": cond}, other]}]
    return out


def dispatch_by_type(spec: dict[str, Any]) -> None:
    """Every schema as the generator converts it: a discriminated base dispatches on ``@type`` (the
    mapped schema only, an unmapped extension type against the plain base), ``nullable`` as a type."""
    schemas = spec["components"]["schemas"]
    spec["components"]["schemas"] = _draft4(_generator()._definitions(schemas))


def add_error_response(status: str, methods: set[str]) -> Any:
    """An edit adding ``status`` with the file's Error to every operation of ``methods``."""

    def edit(spec: dict[str, Any]) -> None:
        error = {"description": "", "content": {"application/json": {"schema": {"$ref": _SCHEMAS + "Error"}}}}
        for path, item in spec["paths"].items():
            for method, op in item.items():
                if method in methods and isinstance(op, dict) and not path.startswith("/listener/"):
                    op["responses"].setdefault(status, error)

    return edit
