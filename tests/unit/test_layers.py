"""Dependencies point one way: web → (auth, apis) → engine → (tmf630, events, net) → store → errors.

``auth`` (tokens, clients, rate limits) sits beside the APIs: the edge uses both, neither
knows the other. ``net`` (the outbound guard) knows nothing of tmfstack but its errors."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "src" / "tmfstack"

#: layer -> packages it must never import
FORBIDDEN = {
    "store": {"engine", "apis", "web", "events", "tmf630", "auth", "net"},
    "tmf630": {"engine", "apis", "web", "events", "store", "auth", "net"},
    "net": {"engine", "apis", "web", "events", "store", "tmf630", "auth", "settings"},
    "events": {"engine", "apis", "web", "auth"},
    "engine": {"apis", "web", "auth"},
    "auth": {"engine", "apis", "web", "events", "tmf630"},
    "apis": {"web", "auth"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    layer_depth = len(path.relative_to(PKG).parts) - 1
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = list(path.relative_to(PKG).parts[:layer_depth])
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = [*base, *(node.module or "").split(".")]
                found.add(target[0] if target and target[0] else "")
            elif node.module and node.module.startswith("tmfstack."):
                found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("tmfstack."))
    return found


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(layer: str) -> None:
    offenders = []
    for path in sorted((PKG / layer).rglob("*.py")):
        bad = _imports(path) & FORBIDDEN[layer]
        if bad:
            offenders.append(f"{path.relative_to(PKG)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


def test_checker_sees_relative_imports() -> None:
    # guard against a checker that silently finds nothing
    assert "store" in _imports(PKG / "engine" / "reading.py")
    assert "errors" in _imports(PKG / "store" / "sqlite.py")
