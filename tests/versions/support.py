"""What the version tests share: the official v5 schemas, the served resources of every version.

A v5 answer is checked against the official OAS 3 file (``../shared/specs``), converted to JSON
Schema by the same function the generator uses (``tools/gen_specs.py: derive_oas3``: discriminator
dispatch, ``nullable``), read from the official file here, not from tmfstack's generated copy.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema_rs

from tmfstack.apis import all_apis
from tmfstack.engine.declaration import ApiDecl
from tmfstack.engine.versions import VersionDecl

REPO = Path(__file__).resolve().parents[2]
VERSIONS = [api for api in all_apis() if isinstance(api, VersionDecl)]


@cache
def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_specs_for_tests", REPO / "tools" / "gen_specs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@cache
def official(source: str) -> dict[str, Any]:
    gen = _generator()
    return gen.derive_oas3(gen.load_spec(source), source)["definitions"]  # type: ignore[no-any-return]


@cache
def _validator(source: str, definition: str) -> Any:
    return jsonschema_rs.Draft7Validator({"$ref": f"#/definitions/{definition}", "definitions": official(source)})


def assert_v5(api: ApiDecl, definition: str, body: Any) -> None:
    """``body`` (or each item of a list) is valid against ``definition`` of the official v5 file."""
    assert definition in official(api.contract.source), f"{definition} is not in {api.contract.source}"
    for item in body if isinstance(body, list) else [body]:
        errors = _validator(api.contract.source, definition).iter_errors(item)
        found = [f"/{'/'.join(map(str, e.instance_path))}: {e.message}" for e in errors]
        assert not found, f"{api.key} {api.version} {definition} breaks the official schema:\n" + "\n".join(found[:10])


def assert_v5_error(api: ApiDecl, r: Any, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text[:300])
    body = r.json()
    assert body["status"] == str(status) and body["code"] and body["@type"] == "Error", body
    assert_v5(api, "Error", body)


@dataclass(frozen=True)
class Served:
    """A resource of a version: its served name and the canonical resource it maps onto."""

    version: VersionDecl
    name: str  #: served name
    canonical: str

    @property
    def ops(self) -> frozenset[str]:
        return self.version.contract.served(self.name) or frozenset()

    @property
    def canonical_api(self) -> ApiDecl:
        assert self.version.of is not None
        return self.version.of

    @property
    def entity(self) -> str:
        named = self.version.contract.schemas(self.name)
        return named.get("entity") or self.name[0].upper() + self.name[1:]

    @property
    def type(self) -> str:
        """The entity's ``@type`` and event prefix (639 v5 answers with ``Resource_RES``: ``Resource``)."""
        return self.entity.removesuffix("_RES")

    @property
    def base(self) -> str:
        return f"{self.version.root}/{self.name}"

    def __str__(self) -> str:
        return f"{self.version.key} {self.version.version} {self.name}"


SERVED = [Served(v, name, m.canonical) for v in VERSIONS for name, m in sorted(v.maps.items())]
