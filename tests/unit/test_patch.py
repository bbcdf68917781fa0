"""PATCH documents (``engine/patch.py``): JSON Merge Patch by the examples of RFC 7396 (formerly
7386) appendix A, the media types, and JSON Patch's refusals."""

from __future__ import annotations

from typing import Any

import pytest

from tmfstack.engine import patch
from tmfstack.errors import BadRequest, UnsupportedMediaType

#: (target, patch, result): RFC 7396 appendix A, every example
RFC_7396 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("target, change, result", RFC_7396)
def test_merge_follows_rfc_7396(target: Any, change: Any, result: Any) -> None:
    assert patch.merge(target, change) == result


def test_merge_leaves_target_and_patch_as_they_were() -> None:
    target, change = {"a": {"b": [1]}, "c": 1}, {"a": {"d": [2]}, "c": None}
    merged = patch.merge(target, change)
    merged["a"]["d"].append(3)
    assert target == {"a": {"b": [1]}, "c": 1}
    assert change == {"a": {"d": [2]}, "c": None}


@pytest.mark.parametrize("content_type", [None, "application/json", "application/merge-patch+json; charset=utf-8"])
def test_json_and_merge_patch_media_types_merge(content_type: str | None) -> None:
    assert patch.apply({"a": 1, "b": 2}, b'{"b": null, "c": 3}', content_type) == {"a": 1, "c": 3}


def test_json_patch_applies_operations() -> None:
    body = b'[{"op": "add", "path": "/note/-", "value": "x"}, {"op": "remove", "path": "/a"}]'
    assert patch.apply({"a": 1, "note": []}, body, patch.JSON_PATCH) == {"note": ["x"]}


@pytest.mark.parametrize(
    "body, content_type",
    [
        (b"[1]", "application/merge-patch+json"),  # a merge patch that is no object would replace the resource
        (b'{"op": "add"}', patch.JSON_PATCH),  # not an array of operations
        (b'[{"op": "remove", "path": "/missing"}]', patch.JSON_PATCH),
        (b'[{"op": "replace", "path": "", "value": [1]}]', patch.JSON_PATCH),  # no longer an object
    ],
)
def test_patches_that_cannot_apply_are_400(body: bytes, content_type: str) -> None:
    with pytest.raises(BadRequest) as caught:
        patch.apply({"a": 1}, body, content_type)
    assert caught.value.code == "INVALID_PATCH"


def test_other_media_types_are_415() -> None:
    with pytest.raises(UnsupportedMediaType):
        patch.apply({"a": 1}, b"a=1", "application/x-www-form-urlencoded")
