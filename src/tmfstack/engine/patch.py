"""PATCH bodies: JSON Merge Patch (RFC 7396) and JSON Patch (RFC 6902).

TMF v4 declares only ``application/json``; TMF630 makes JSON Merge the mandatory
context, so ``application/json`` and ``application/merge-patch+json`` are merged.
"""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from .. import limits
from ..errors import BadRequest, UnsupportedMediaType

MERGE = frozenset({"application/json", "application/merge-patch+json"})
JSON_PATCH = "application/json-patch+json"


def media_type(content_type: str | None) -> str:
    return (content_type or "application/json").split(";", 1)[0].strip().lower()


def merge(target: Any, patch: Any) -> Any:
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge(result.get(key), value)
    return result


def parse(body: bytes, content_type: str | None) -> tuple[str, Any]:
    """(media type, patch document): the type checked, the JSON bounded (``limits.parse_json``)."""
    given = media_type(content_type)
    if given not in MERGE and given != JSON_PATCH:
        raise UnsupportedMediaType(
            f"PATCH accepts application/merge-patch+json, application/json or {JSON_PATCH}, not {given!r}"
        )
    return given, limits.parse_json(body)


def apply(doc: dict[str, Any], body: bytes, content_type: str | None) -> dict[str, Any]:
    return apply_parsed(doc, *parse(body, content_type))


def apply_parsed(doc: dict[str, Any], patch_type: str, patch: Any) -> dict[str, Any]:
    if patch_type in MERGE:
        if not isinstance(patch, dict):
            raise BadRequest("a merge patch must be a JSON object", code="INVALID_PATCH")
        return merge(doc, patch)
    if not isinstance(patch, list):
        raise BadRequest("a JSON Patch must be an array of operations", code="INVALID_PATCH")
    try:
        result = jsonpatch.JsonPatch(patch).apply(doc)
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException, TypeError, KeyError) as exc:
        raise BadRequest(f"JSON Patch cannot be applied: {exc}", code="INVALID_PATCH") from None
    if not isinstance(result, dict):
        raise BadRequest("a JSON Patch must leave the resource a JSON object", code="INVALID_PATCH")
    return result
