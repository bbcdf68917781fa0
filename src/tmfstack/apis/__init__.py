"""The TM Forum APIs tmfstack serves, one module per API, grouped by family.

Adding an API: put its declaration in ``apis/<family>/tmfNNN.py`` (a module named ``tmf`` and
digits, e.g. ``tmf688.py``) exposing ``API``, an ``ApiDecl``; ``all_apis`` finds it, and the
generic tests (tests/api/test_every_api.py, the access matrix, the fuzzer) cover it. Its contract
comes from ``tools/gen_specs.py`` (add the spec file to ``SPECS`` there and regenerate).

A family folder is a regular package: it needs an ``__init__.py`` (it may be empty). Packaging
(``setuptools.packages.find``) leaves a folder without one out of the wheel, so a server installed
from it would lack the API; ``all_apis`` therefore refuses to start and names the folder instead
of serving it only from a source tree. A ``tmfNNN.py`` module without ``API`` is refused too.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

from ..engine.declaration import ApiDecl
from ..engine.versions import VersionDecl

_HERE = Path(__file__).resolve().parent
#: ``tmf637.py`` declares an API (its canonical version), ``tmf637_v5.py`` another version of it
_MODULE = re.compile(r"tmf\d+(_v\d+)?")


def _modules() -> list[str]:
    """Dotted names of every ``<family>/tmfNNN.py`` below this package."""
    found = []
    for path in sorted(_HERE.glob("*/tmf*.py")):
        if not _MODULE.fullmatch(path.stem):
            continue
        family = path.parent
        if not (family / "__init__.py").is_file():
            raise RuntimeError(
                f"apis/{family.name}/ declares {path.name} but has no __init__.py: add an empty "
                f"apis/{family.name}/__init__.py (a folder without one is left out of the installed package)"
            )
        found.append(f"{__name__}.{family.name}.{path.stem}")
    return found


def all_apis() -> list[ApiDecl]:
    """Every declared API, ordered by key (``tmf620`` … ``tmf688``)."""
    apis = []
    for name in _modules():
        api = getattr(importlib.import_module(name), "API", None)
        if not isinstance(api, ApiDecl):
            raise RuntimeError(f"{name} is an API module (tmfNNN.py) but has no API = ApiDecl.build(...)")
        apis.append(api)
    keys = [(api.key, api.version) for api in apis]
    if len(set(keys)) != len(keys):
        raise RuntimeError(f"an API version is declared twice: {sorted(keys)}")
    # a version after the one it maps onto: the engine serves the canonical one first
    return sorted(apis, key=lambda api: (api.key, isinstance(api, VersionDecl), api.version))
