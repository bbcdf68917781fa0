"""The v5 contracts (``tools/gen_specs.py`` on the OpenAPI 3 files): resources, schemas per resource, and
OAS discriminator semantics in Draft 7, checked with ``engine/contract.py``'s validators and against the
examples the official files carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from tests.support.generator import gen_specs
from tmfstack.engine.contract import load_contract

REPO = Path(__file__).resolve().parents[2]
SPECS = REPO.parent / "shared" / "specs"
V5 = sorted(p.name for p in SPECS.glob("TMF*-v5.0.0.oas.yaml"))

pytestmark = pytest.mark.skipif(len(V5) != 9, reason="the nine official v5 files are in ../shared/specs")


TOOL = gen_specs()


@pytest.mark.parametrize("source", V5)
def test_each_v5_file_generates_its_committed_contract(source: str) -> None:
    key = TOOL.contract_key(source)
    text = TOOL.render(key, source)  # raises UnmappedPath for a path of unknown shape
    assert (REPO / "src" / "tmfstack" / "_generated" / f"{key}.json").read_text(encoding="utf-8") == text
    data = json.loads(text)
    assert data["draft"] == 7 and data["servers"] and data["source"] == source
    assert {"resources", "events", "definitions", "undefinedReferences"} <= set(data)
    assert data["undefinedReferences"] == []


@pytest.mark.parametrize(
    "key, resources, base_path",
    [
        ("tmf620_v5", {"productCatalog", "productOffering", "category", "hub"}, "/tmf-api/productCatalogManagement/v5"),
        ("tmf622_v5", {"productOrder", "cancelProductOrder", "hub"}, ""),
        ("tmf632_v5", {"individual", "organization"}, "/tmf-api/partyManagement/v5"),
        ("tmf639_v5", {"resource", "hub"}, "/tmf-api/resourceInventory/v5"),
        ("tmf669_v5", {"partyRole", "partyRoleSpecification"}, ""),
        (
            "tmf679_v5",
            {"checkProductOfferingQualification", "queryProductOfferingQualification"},
            "/tmf-api/productOfferingQualification/v5",
        ),
    ],
)
def test_the_contract_lists_the_files_resources_and_base_path(key: str, resources: set[str], base_path: str) -> None:
    contract = load_contract(key)
    assert resources <= set(contract.operations)
    assert contract.base_path == base_path
    assert contract.draft == 7


def test_operations_and_schemas_per_resource() -> None:
    order = load_contract("tmf622_v5")
    assert order.operations["productOrder"] == {"create", "delete", "get", "list", "patch"}
    assert order.schemas("productOrder") == {
        "create": "ProductOrder_FVO",
        "patch": "ProductOrder_MVO",
        "entity": "ProductOrder",
    }
    assert order.schemas("hub") == {"create": "Hub_FVO", "entity": "Hub"}
    assert load_contract("tmf639_v5").operations["hub"] == {"create", "delete", "get"}
    assert "ProductOrderCreateEvent" in order.events
    assert load_contract("tmf622_v4").schemas("productOrder") == {}
    assert load_contract("tmf622_v4").draft == 4


def order(product: dict[str, Any], **extra: Any) -> dict[str, Any]:
    item = {
        "id": "1",
        "action": "add",
        "@type": "ProductOrderItem",
        "productOffering": {"id": "x", "@type": "ProductOfferingRef"},
        "product": product,
    }
    return {"@type": "ProductOrder", "productOrderItem": [item], **extra}


@pytest.mark.parametrize(
    "product, valid",
    [
        ({"@type": "Product", "isBundle": False}, True),  # the value form
        ({"id": "p1", "@type": "ProductRef"}, True),  # valid under Product too: oneOf alone would refuse it
        ({"@type": "ProductRef", "id": 5}, False),  # the mapped branch only, and there id is a string
        ({"@type": "ProductRef"}, False),  # a reference needs its id
        ({"@type": "FibreProduct", "@baseType": "Product", "isBundle": False}, True),  # an extension type
        ({"@type": "FibreProduct", "@baseType": "Product", "isBundle": "no"}, False),  # ... still typed
        (
            {
                "@type": "Product",
                "productCharacteristic": [{"@type": "StringCharacteristic", "name": "a", "value": "x"}],
            },
            True,
        ),
        (
            {"@type": "Product", "productCharacteristic": [{"@type": "StringCharacteristic", "name": "a", "value": 3}]},
            False,
        ),
        (
            {
                "@type": "Product",
                "productCharacteristic": [{"@type": "IntegerCharacteristic", "name": "a", "value": 3}],
            },
            True,
        ),
        (
            {"@type": "Product", "productCharacteristic": [{"@type": "MyCharacteristic", "name": "a", "value": [1]}]},
            True,
        ),
        ({"@type": "Product", "productCharacteristic": [{"@type": "Characteristic", "value": 1}]}, False),  # name
    ],
)
def test_discriminator_semantics_in_a_product_order(product: dict[str, Any], valid: bool) -> None:
    contract = load_contract("tmf622_v5")
    assert (contract.errors("ProductOrder_FVO", order(product)) == []) is valid


def test_related_party_or_party_role_dispatches_through_two_levels() -> None:
    contract = load_contract("tmf622_v5")
    party = {"@type": "RelatedPartyRefOrPartyRoleRef", "role": "customer", "partyOrPartyRole": {}}
    product = {"@type": "Product"}
    party["partyOrPartyRole"] = {"@type": "PartyRef", "id": "c1"}
    assert contract.errors("ProductOrder_FVO", order(product, relatedParty=[party])) == []
    party["partyOrPartyRole"] = {"@type": "PartyRef"}  # a reference without its id
    assert contract.errors("ProductOrder_FVO", order(product, relatedParty=[party])) != []


def test_a_discriminated_base_is_split_and_mapping_to_itself_does_not_loop() -> None:
    defs = load_contract("tmf622_v5").definitions
    assert "if" in defs["Characteristic"] and "allOf" in defs["Characteristic__base"]
    assert defs["StringCharacteristic"]["allOf"][0] == {"$ref": "#/definitions/Characteristic__base"}
    # ProductOrder maps only to itself: no dispatcher, and a valid order is valid through it
    assert "ProductOrder__base" not in defs
    entity = load_contract("tmf622_v5").validator("ProductOrder")
    assert entity.is_valid(order({"@type": "Product"}, id="o1", state="acknowledged"))


def test_path_kind_sees_through_allof_dispatchers_and_oneof() -> None:
    contract = load_contract("tmf622_v5")
    assert contract.path_kind("ProductOrder", ["productOrderItem", "product", "isBundle"]) == "scalar"
    assert contract.path_kind("ProductOrder", ["relatedParty", "partyOrPartyRole", "id"]) == "scalar"
    assert contract.path_kind("ProductOrder", ["productOrderItem", "product", "productCharacteristic"]) == "object"
    assert contract.path_kind("ProductOrder", ["productOrderItem", "quantity", "x"]) == "invalid"
    assert "productOrderItem" in contract.properties("ProductOrder_FVO")


def test_nullable_becomes_a_null_type() -> None:
    assert TOOL.to_json_schema({"type": "string", "nullable": True}) == {"type": ["string", "null"]}
    assert TOOL.to_json_schema({"$ref": "#/components/schemas/X", "nullable": True}) == {
        "anyOf": [{"$ref": "#/definitions/X"}, {"type": "null"}]
    }


#: examples of the official files that their own schemas refuse, with the reason (spec bugs, not ours)
KNOWN_SPEC_BUGS = {
    ("tmf620_v5", "ProductOffering_FVO", "Product_Offering_Create_example"): (
        "a reference typed @type ProductOfferingPrice (the value form, which requires priceType ...)"
    ),
    ("tmf620_v5", "ProductSpecification_FVO", "Product_Specification_Create_example"): (
        'a NumberCharacteristicValueSpecification value "8" (a string)'
    ),
    ("tmf620_v5", "200ProductSpecificationArray", "ProductSpecification_list_example"): "the same value",
    ("tmf620_v5", "201ProductSpecification", "Product_Specification_Create_example"): "the same value",
    (
        "tmf620_v5",
        "200ProductSpecification_Patch",
        "Product_Specification_Update_JSON_Patch",
    ): "attachment without @type",
    ("tmf620_v5", "200ProductSpecification_Patch", "Product_Specification_Update_JSON_Patch_Query"): (
        "attachment without @type"
    ),
    ("tmf622_v5", "ProductOrder_FVO", "CreateProductOrder_with_intent_specification"): (
        "an Intent_FVO without its required creationDate/lifecycleStatus; expressionValue an object (string)"
    ),
    ("tmf622_v5", "201ProductOrder", "CreateProductOrder_with_intent_specification"): "expressionValue an object",
    ("tmf622_v5", "200ProductOrder_Get", "retrieveProductOrderById2"): "a productRelationship without its id",
    ("tmf632_v5", "200Organization_Patch", "Organization_update_example_JSON_Patch"): (
        "an organizationIdentification without @type"
    ),
    ("tmf632_v5", "200Organization_Patch", "Organization_update_example_JSON_Patch_Query"): (
        "an organizationIdentification without @type"
    ),
    ("tmf634_v5", "ResourceSpecification_FVO", "ResourceSpecification_create_example_1_characteristic_bnased"): (
        "an attachment without its required attachmentType"
    ),
    ("tmf634_v5", "ResourceSpecification_FVO", "ResourceSpecification_create_example_2_schema_based"): (
        "an attachment without its required attachmentType"
    ),
    ("tmf634_v5", "ResourceSpecification_FVO", "ResourceSpecification_create_example_3_with_intent_specification"): (
        "an attachment without its required attachmentType"
    ),
    ("tmf634_v5", "ResourceSpecification_MVO", "ResourceSpecification_Update_example_JSON-PATCH_"): (
        'JSON Patch operations that say "/path" for "path"'
    ),
    ("tmf634_v5", "200ResourceCatalog_Patch", "ResourceCatalog_Update_example_JSON-PATCH_"): "a category without @type",
    ("tmf637_v5", "Product_FVO", "CreateProduct_with_intent"): (
        "an Intent_FVO without creationDate/lifecycleStatus; expressionValue an object (string)"
    ),
    ("tmf637_v5", "201Product", "CreateProduct_with_intent"): "expressionValue an object (the schema says string)",
    **{
        ("tmf679_v5", "200QueryProductOfferingQualification_Patch", f"QueryProductOfferingQualification_{name}"): (
            "a productSpecification reference without @type"
        )
        for name in (
            "partialupdate_example_application_json",
            "partialupdate_example_application_merge_patch_json",
            "partialupdate_example_application_json_patch_json",
        )
    },
}


def examples() -> list[tuple[str, str, str, Any, Any]]:
    """(key, requestBody or response, example name, JSON Schema of the content, value) of every example a
    request body or response of ``components`` names: it is clear which schema each belongs to."""
    out = []
    for source in V5:
        key = TOOL.contract_key(source)
        spec = TOOL.load_spec(source)
        split = frozenset(TOOL._mappings(spec["components"]["schemas"]))
        bodies = {**spec["components"].get("requestBodies", {}), **spec["components"].get("responses", {})}
        for where, body in bodies.items():
            for content in body.get("content", {}).values():
                for name, example in (content.get("examples") or {}).items():
                    example = TOOL._local(spec, example)
                    if "schema" in content and "value" in example:
                        out.append((key, where, name, TOOL.to_json_schema(content["schema"], split), example["value"]))
    return out


def test_the_official_examples_are_valid_but_the_known_spec_bugs() -> None:
    passed, failed = 0, set()
    for key, where, name, schema, value in examples():
        validator = jsonschema_rs.Draft7Validator({**schema, "definitions": load_contract(key).definitions})
        if validator.is_valid(value):
            passed += 1
        else:
            failed.add((key, where, name))
    assert failed == set(KNOWN_SPEC_BUGS)
    assert passed >= 370  # 373 of 394 when written


def test_discovery_reads_a_version_declaration(tmp_path: Path) -> None:
    (tmp_path / "commerce").mkdir()
    (tmp_path / "commerce" / "tmf622_v5.py").write_text(
        'API = VersionDecl.build(\n    "TMF622-ProductOrdering-v5.0.0.oas.yaml",\n    of=V4,\n)\n', encoding="utf-8"
    )
    assert TOOL.discover(tmp_path) == {"tmf622_v5": "TMF622-ProductOrdering-v5.0.0.oas.yaml"}
