"""``tools/gen_specs.py`` as a module for the tests (it is a script, not part of the package)."""

from __future__ import annotations

import importlib.util
from functools import cache
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parents[2]


@cache
def gen_specs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_specs", REPO / "tools" / "gen_specs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
