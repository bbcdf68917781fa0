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
    "apis": {"web", "auth", "store"},  # domain code reads through the engine (engine/lookup.py)
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


# -- API families ---------------------------------------------------------------------------

APIS = PKG / "apis"

#: family -> the modules other families may import from it (its interface); a family not
#: named here may not be imported by another. Modules directly under ``apis/`` (``documents``)
#: belong to no family and are free to use.
INTERFACES: dict[str, set[str]] = {
    "activation": {"activation.interface"},
    "qualification": {"qualification.interface"},
    "ordering": set(),
    "catalog": {"catalog.chain", "catalog.rules", "catalog.characteristics", "catalog.view"},
    "inventory": {"inventory.pools", "inventory.tmf638"},
    "geography": {"geography.places", "geography.serviceability"},
    "party": {"party.directory"},
}


def _targets(path: Path) -> set[tuple[str, ...]]:
    """What ``path`` imports from tmfstack, as parts below ``tmfstack`` ending in each imported
    name (``from ..inventory import pools`` → apis, inventory, pools)."""
    parts = path.relative_to(PKG).parts
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = list(parts[: len(parts) - node.level])
                module = node.module.split(".") if node.module else []
            elif node.module and node.module.startswith("tmfstack."):
                base, module = [], node.module.split(".")[1:]
            else:
                continue
            found.update((*base, *module, alias.name) for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(tuple(a.name.split(".")[1:]) for a in node.names if a.name.startswith("tmfstack."))
    return found


def _family_imports() -> dict[str, dict[str, set[str]]]:
    """family -> module of another family it imports -> the importing files."""
    out: dict[str, dict[str, set[str]]] = {}
    for path in sorted(APIS.rglob("*.py")):
        parts = path.relative_to(APIS).parts
        if len(parts) < 2:
            continue  # apis/__init__.py, apis/documents.py: no family
        family = parts[0]
        for target in _targets(path):
            if len(target) >= 3 and target[0] == "apis" and target[1] != family and (APIS / target[1]).is_dir():
                module = ".".join(target[1:3])
                out.setdefault(family, {}).setdefault(module, set()).add(str(path.relative_to(PKG)))
    return out


def test_families_import_each_other_only_through_interfaces() -> None:
    offenders = [
        f"{', '.join(sorted(files))} import {module}"
        for imports in _family_imports().values()
        for module, files in imports.items()
        if module not in INTERFACES.get(module.split(".")[0], set())
    ]
    assert not offenders, "\n".join(offenders)


def test_families_do_not_import_each_other_in_a_cycle() -> None:
    graph = {family: {m.split(".")[0] for m in imports} for family, imports in _family_imports().items()}

    def reach(start: str, node: str, path: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return (*path, nxt)
            if nxt not in path:
                found = reach(start, nxt, (*path, nxt))
                if found:
                    return found
        return None

    cycles = [" → ".join(c) for family in sorted(graph) if (c := reach(family, family, (family,)))]
    assert not cycles, "\n".join(cycles)


def test_family_checker_sees_imports() -> None:
    imports = _family_imports()
    assert "activation.interface" in imports["ordering"]
    assert ("store", "base", "Row") in _targets(PKG / "engine" / "lookup.py")
    assert "inventory.pools" in imports["geography"]  # from ...inventory import pools
