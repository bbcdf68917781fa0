"""Declaring an API (``engine/declaration.py``): the module's example runs as written, key, name
and version come from the contract, and ``tools/gen_specs.py`` finds every API's spec file."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.support.generator import gen_specs
from tmfstack.apis import all_apis
from tmfstack.engine import declaration
from tmfstack.engine.contract import contract_key
from tmfstack.engine.core import Engine
from tmfstack.engine.declaration import ApiDecl, ResourceDecl
from tmfstack.engine.tasks import TaskDecl
from tmfstack.errors import BadRequest
from tmfstack.store.base import open_store

REPO = Path(__file__).resolve().parents[2]


def example() -> str:
    """The code block of the module docstring (the indented lines after its ``::``)."""
    doc = declaration.__doc__ or ""
    found = re.search(r"::\n\n((?:    .*\n|\n)+)", doc)
    assert found, "declaration.py's docstring has no example block"
    return textwrap.dedent(found.group(1))


def test_the_docstring_example_runs_and_declares_what_it_says() -> None:
    namespace: dict[str, Any] = {}
    exec(compile(example(), "declaration.py example", "exec"), namespace)
    api: ApiDecl = namespace["API"]
    assert (api.key, api.name, api.version) == ("tmf632", "party", "v4")
    assert list(api.resources) == ["individual"]
    assert api.tasks["welcome"] == TaskDecl(namespace["send_welcome"])


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_the_example_api_serves_its_rule_and_schedules_its_task(tmp_path: Path) -> None:
    namespace: dict[str, Any] = {}
    exec(compile(example(), "declaration.py example", "exec"), namespace)
    engine = Engine(open_store(f"sqlite:///{tmp_path}/t.db"), [namespace["API"]], public_url="http://test")
    await engine.open()
    try:
        svc = engine.service(namespace["API"], "individual")
        with pytest.raises(BadRequest, match="gender is female, male or other"):
            await svc.create({"givenName": "Ada", "familyName": "Lovelace", "gender": "?"})
        doc, _, _ = await svc.create({"givenName": "Ada", "familyName": "Lovelace"})
        [task] = await engine.store.tasks("welcome")
        assert task.key == doc["id"]
    finally:
        await engine.store.close()


def test_key_name_and_version_come_from_the_contract() -> None:
    api = ApiDecl.build("TMF685-Resource_Pool_Management-v1.0.regular.swagger.json", resources=[])
    assert (api.key, api.root, api.contract.key) == ("tmf685", "/tmf-api/resourcePoolManagement/v1", "tmf685_v1")


@pytest.mark.parametrize(
    "spec, message",
    [
        ("tmf632.json", "not an official spec file name"),
        ("TMF632-Party-v4.1.0.swagger.json", "generated from TMF632-Party-v4.0.0"),  # another file's contract
    ],
)
def test_a_spec_file_without_its_contract_is_refused(spec: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ApiDecl.build(spec, resources=[])


def test_resources_and_partner_access_are_checked() -> None:
    with pytest.raises(ValueError, match="not in the spec"):
        ApiDecl.build("TMF632-Party-v4.0.0.swagger.json", resources=[ResourceDecl("nobody")])
    with pytest.raises(ValueError, match="none, read or write"):
        ApiDecl.build("TMF632-Party-v4.0.0.swagger.json", resources=[], partner_access="all")


def test_gen_specs_finds_every_apis_spec_file_and_names_its_contract_alike() -> None:
    tool = gen_specs()
    found = tool.discover()
    served = {api.contract.key: api.contract.source for api in all_apis()}
    assert found == served
    for key, source in found.items():
        assert tool.contract_key(source) == contract_key(source) == key


def test_gen_specs_reads_a_module_whose_contract_does_not_exist_yet(tmp_path: Path) -> None:
    (tmp_path / "family").mkdir()
    (tmp_path / "family" / "tmf999.py").write_text(
        'API = ApiDecl.build(\n    "TMF999-Future-v5.0.0.swagger.json",\n    resources=[],\n)\n', encoding="utf-8"
    )
    assert gen_specs().discover(tmp_path) == {"tmf999_v5": "TMF999-Future-v5.0.0.swagger.json"}
