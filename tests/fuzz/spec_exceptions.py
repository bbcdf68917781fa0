"""The one reviewed list of where the fuzz run departs from the official files (a helper module).

Two kinds of entries, each naming the API, the operation, what is wrong and why:

- ``SPEC_FIXES``: a defect of the official file, corrected in the copy the fuzzer loads (the
  checks still run, against the corrected schema); each is a small edit function.
- ``KNOWN``: a symptom tolerated with its reason: a finding of ours that another branch fixes,
  or what the file's format cannot express; matched by API, operation, check, a fragment of the
  failure and optionally of the request, so that only that symptom is tolerated.

An entry concerns the canonical declaration's file (the v4 Swagger file, TMF685's v1) unless its
``version`` names another served version ("v5": that version's OAS 3 file); ``api`` ALL with
``version="v5"`` is every v5 file.

Nothing here switches a check off for an operation as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tests.fuzz.oas3_edits import add_error_response, dispatch_by_type
from tmfstack.engine.declaration import ApiDecl
from tmfstack.engine.versions import VersionDecl

ALL = "*"
#: ``version`` of an entry about the canonical declaration's file (whatever its version number)
CANONICAL = ""


def _targets(api: str, version: str, served: ApiDecl) -> bool:
    edition = served.version if isinstance(served, VersionDecl) else CANONICAL
    return api in (ALL, served.key) and version == edition


@dataclass(frozen=True)
class SpecFix:
    api: str  #: "tmf620", or ALL
    operation: str  #: what it concerns, e.g. "every list GET", "POST /reservation"
    problem: str  #: what is wrong in the official file
    why: str  #: why the correction is right (the standard or the user guide that says so)
    edit: Any  #: a function (spec) -> None changing the loaded file in place
    version: str = CANONICAL  #: "v5": the file of that served version

    def applies_to(self, api: ApiDecl) -> bool:
        return _targets(self.api, self.version, api)

    def apply(self, spec: dict[str, Any]) -> None:
        self.edit(spec)


@dataclass(frozen=True)
class Known:
    api: str
    operation: str  #: "POST /productOffering", or ALL
    check: str  #: the Schemathesis check that reports it
    fragment: str  #: a piece of the failure's text that identifies the symptom
    reason: str
    #: the request (URL, a line break, the body) must hold one of these, when given
    request_holds: tuple[str, ...] = ()
    version: str = CANONICAL  #: "v5": the file of that served version

    def applies_to(self, api: ApiDecl) -> bool:
        return _targets(self.api, self.version, api)

    def matches(self, api: ApiDecl, operation: str, check: str, text: str, request: str) -> bool:
        return (
            self.applies_to(api)
            and self.operation in (ALL, operation)
            and self.check == check
            and self.fragment in text
            and (not self.request_holds or any(piece in request for piece in self.request_holds))
        )


# -- edits ------------------------------------------------------------------------------------


def _open_undefined_references(spec: dict[str, Any]) -> None:
    """Replace ``$ref``s to definitions the file never defines by an open schema ``{}``."""
    defined = set(spec.get("definitions", {}))

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/definitions/") and ref[14:] not in defined:
                return {}
            return {k: fix(v) for k, v in node.items()}
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    spec.update(fix(spec))


#: TMF630 v4's Error, as every v4 file of ours declares it (TMF622 v4.0.0 ``#/definitions/Error``)
_V4_ERROR = {
    "type": "object",
    "required": ["code", "reason"],
    "properties": {
        "code": {"type": "string"},
        "reason": {"type": "string"},
        "message": {"type": "string"},
        "status": {"type": "string"},
        "referenceError": {"type": "string", "format": "uri"},
        "@baseType": {"type": "string"},
        "@schemaLocation": {"type": "string", "format": "uri"},
        "@type": {"type": "string"},
    },
}


def _v4_error(spec: dict[str, Any]) -> None:
    spec["definitions"]["Error"] = _V4_ERROR


def _reservation_get_one(spec: dict[str, Any]) -> None:
    spec["paths"]["/reservation/{id}"]["get"]["responses"]["200"]["schema"] = {"$ref": "#/definitions/Reservation"}


def _projection(spec: dict[str, Any]) -> None:
    """A GET with ``fields`` answers the entity without its top-level ``required``: a copy of the
    definition named ``<Entity>_Fields`` (nested objects keep theirs; POST and PATCH answers keep
    the full definition)."""
    definitions = spec["definitions"]
    for item in spec["paths"].values():
        get = item.get("get")
        if not get or not any(p.get("name") == "fields" for p in get.get("parameters", [])):
            continue
        schema = get["responses"].get("200", {}).get("schema", {})
        holder = schema.get("items", schema)
        name = holder.get("$ref", "").removeprefix("#/definitions/")
        if name in definitions:
            projected = {k: v for k, v in definitions[name].items() if k != "required"}
            definitions[f"{name}_Fields"] = projected
            holder["$ref"] = f"#/definitions/{name}_Fields"


def _add_response(status: str, methods: set[str], list_only: bool = False) -> Any:
    def edit(spec: dict[str, Any]) -> None:
        for path, item in spec["paths"].items():
            if path.startswith("/listener/") or (list_only and "{" in path):
                continue
            for method, op in item.items():
                if method in methods and isinstance(op, dict):
                    if status == "206":
                        op["responses"].setdefault("206", op["responses"]["200"])
                    else:
                        error = {"description": "", "schema": {"$ref": "#/definitions/Error"}}
                        op["responses"].setdefault(status, error)

    return edit


def _missing_parent(spec: dict[str, Any]) -> None:
    """A POST under a parent (``/topic/{topicId}/event``) answers 404 when the parent does not exist."""
    error = {"description": "", "schema": {"$ref": "#/definitions/Error"}}
    for path, item in spec["paths"].items():
        parts = path.strip("/").split("/")
        if len(parts) == 3 and parts[1].startswith("{") and "post" in item:
            item["post"]["responses"].setdefault("404", error)


SPEC_FIXES: list[SpecFix] = [
    SpecFix(
        api="tmf685",
        operation="every operation",
        problem="refers to #/definitions/int, ResourceCharacteristic, ResourceRelationship and "
        "BundledProductOfferingRef, which the file never defines",
        why="the file cannot be loaded otherwise; the generated contract makes the same replacement "
        "(tools/gen_specs.py, README 'Spec decisions')",
        edit=_open_undefined_references,
    ),
    SpecFix(
        api="tmf685",
        operation="every error answer (Error)",
        problem="Error types code, reason and status as integer, while its own descriptions say "
        "'Text that explains the reason' and 'error code extension like 400-2'",
        why="TMF630 v4 and every v4 file types them as strings; tmfstack answers one Error shape on every API",
        edit=_v4_error,
    ),
    SpecFix(
        api="tmf685",
        operation="GET /reservation/{id}",
        problem="answers an array of Reservation for one id",
        why="a read by id answers the resource (TMF630; the file's own PATCH /reservation/{id} answers one)",
        edit=_reservation_get_one,
    ),
    SpecFix(
        api=ALL,
        operation="every GET with the fields parameter",
        problem="the 200 schema requires attributes (e.g. ProductOrder.productOrderItem) that the same "
        "operation's fields= selection leaves out",
        why="TMF630 attribute selection answers only the attributes asked for (and id, href); the "
        "top-level required list cannot hold for a projection",
        edit=_projection,
    ),
    SpecFix(
        api=ALL,
        operation="every list GET",
        problem="documents 200 only",
        why="TMF630 answers 206 Partial Content with the same body when a page holds fewer items than "
        "X-Total-Count (README 'Spec decisions')",
        edit=_add_response("206", {"get"}, list_only=True),
    ),
    SpecFix(
        api=ALL,
        operation="every POST, PATCH and PUT",
        problem="documents no status for a well-formed body the business rules refuse (a referenced "
        "specification or pool that does not exist, an invalid order with TMFSTACK_STRICT_ORDERS)",
        why="RFC 9110 422 Unprocessable Content with a TMF Error: the body is valid JSON and valid against "
        "the schema, so 400 would mislead; documented in README (what every API gets, errors)",
        edit=_add_response("422", {"post", "patch", "put"}),
    ),
    SpecFix(
        api="tmf688",
        operation="POST /topic/{topicId}/event and POST /topic/{topicId}/hub",
        problem="documents no 404, though the topic named in the path may not exist (its GETs document one)",
        why="TMF630: a request about a resource that does not exist is a 404 Not Found with a TMF Error; "
        "an event or a subscription cannot be filed under no topic",
        edit=_missing_parent,
    ),
    # -- v5 (OpenAPI 3.0) files ----------------------------------------------------------------
    SpecFix(
        api=ALL,
        version="v5",
        operation="every answer holding a polymorphic attribute (ProductRefOrValue, PlaceRefOrValue, ...)",
        problem="a discriminated oneOf is read as plain JSON Schema: a reference {id, href, @type: PlaceRef} "
        "is valid under PlaceRef and under GeographicAddress (whose attributes are all optional), so "
        "'valid under more than one' is reported for a correct answer; an extension @type the mapping "
        "does not name ('Product' subclassed, with @baseType) is reported as an unknown discriminator value",
        why="OAS 3 discriminator semantics: @type selects the one schema to validate against; TMF630 "
        "polymorphism lets @type name an extension of the base (with @baseType, @schemaLocation); the "
        "generated v5 contracts convert them so (tools/gen_specs.py _definitions, reused here)",
        edit=dispatch_by_type,
    ),
    SpecFix(
        api=ALL,
        version="v5",
        operation="every PATCH",
        problem="offers application/json-patch-query+json as a request body, and no status for a content "
        "type the server does not take",
        why="TMF630 v5 makes JSON Patch Query optional (merge-patch is the one mandatory format); RFC 9110 "
        "15.5.16: 415 Unsupported Media Type with a TMF Error, naming the types accepted",
        edit=add_error_response("415", {"patch"}),
    ),
    SpecFix(
        api="tmf679",
        version="v5",
        operation="POST /checkProductOfferingQualification and POST /queryProductOfferingQualification",
        problem="document no 400, though a body can break the schema, and the file's own example asks for a "
        "requestedPOQCompletionDate (2021-09-01) that has passed",
        why="TMF630: a request the server cannot accept as sent is a 400 Bad Request with a TMF Error; every "
        "other v5 create of the nine files documents it, and 679 v4 does for the same operations",
        edit=add_error_response("400", {"post"}),
    ),
]

KNOWN: list[Known] = [
    Known(
        api=ALL,
        operation=ALL,
        check="content_type_conformance",
        fragment="204 Missing Content-Type header",
        reason="spec format: a 204 (DELETE) has no content, hence no Content-Type (RFC 9110 15.3.5), but "
        "Swagger 2.0's global 'produces' cannot say that one response has none, so Schemathesis expects it",
    ),
    Known(
        api="tmf639",
        version="v5",
        operation="GET /resource",
        check="not_a_server_error",
        fragment="501 Server error",
        reason="TMF630 Part 6 JSONPath filtering (filter=attachment[?(@.size==300)]) and cursor paging "
        "(before=, after=) are optional and not implemented: 501 Not Implemented with a TMF Error, which the "
        "file documents for this operation (attribute filters and offset/limit paging are served)",
        request_holds=("?filter=", "&filter=", "?before=", "&before=", "?after=", "&after="),
    ),
]
