"""Partner marks (``engine/access.py``) and the key/algorithm pinning of external tokens, as tables."""

from __future__ import annotations

from typing import Any

import pytest

from tmfstack.auth.external import key_algorithm
from tmfstack.engine import access
from tmfstack.errors import BadRequest

SELLER = {"id": "org-a", "role": "Seller", "@referredType": "Organization"}


@pytest.mark.parametrize(
    "doc, expected",
    [
        ({}, set()),
        ({"relatedParty": []}, set()),
        ({"relatedParty": [{"id": "c", "role": "customer"}]}, set()),
        ({"relatedParty": [{"id": "c", "role": "customer"}, SELLER]}, {"org-a"}),
        ({"relatedParty": [{"id": "org-a", "role": " seller "}]}, {"org-a"}),  # role case and spaces fold
        ({"relatedParty": {"id": "org-a", "role": "Seller"}}, {"org-a"}),  # TMF685 has one object
        ({"relatedParty": [{"id": 7, "role": "Seller"}, "junk", None]}, set()),  # only string ids count
        ({"relatedParty": "org-a"}, set()),
    ],
)
def test_partners_are_the_seller_ids(doc: dict[str, Any], expected: set[str]) -> None:
    assert access.partners(doc) == expected
    assert access.visible(doc, None)  # an operator sees everything
    assert access.visible(doc, "org-a") == ("org-a" in expected)


def test_marking_adds_the_partner_once_and_refuses_others() -> None:
    doc: dict[str, Any] = {"relatedParty": [{"id": "c", "role": "customer"}]}
    access.mark(doc, "org-a")
    access.mark(doc, "org-a")
    assert doc["relatedParty"] == [{"id": "c", "role": "customer"}, SELLER]
    empty: dict[str, Any] = {}
    access.mark(empty, "org-a")
    assert empty == {"relatedParty": [SELLER]}
    with pytest.raises(BadRequest, match="acts for itself"):
        access.mark({"relatedParty": [{"id": "org-b", "role": "Seller"}]}, "org-a")
    with pytest.raises(BadRequest):
        access.mark({"relatedParty": {"id": "c"}}, "org-a")  # an object cannot take a second party


def test_what_is_made_from_an_order_carries_its_seller() -> None:
    order = {"relatedParty": [{"id": "c", "role": "customer"}, SELLER]}
    assert access.with_partner([{"id": "c"}], order) == [{"id": "c"}, SELLER]
    assert access.with_partner([{"id": "c"}, SELLER], order) == [{"id": "c"}, SELLER]
    assert access.with_partner([{"id": "c"}], {"relatedParty": []}) == [{"id": "c"}]


@pytest.mark.parametrize(
    "jwk, alg",
    [
        ({"kty": "RSA", "n": "x", "e": "AQAB"}, "RS256"),
        ({"kty": "RSA", "alg": "PS384"}, "PS384"),
        ({"kty": "EC", "crv": "P-256"}, "ES256"),
        ({"kty": "EC", "crv": "P-384"}, "ES384"),
        ({"kty": "OKP", "crv": "Ed25519"}, "EdDSA"),
        ({"kty": "oct", "k": "c2VjcmV0"}, None),  # a symmetric key is never accepted
        ({"kty": "RSA", "alg": "HS256"}, None),
        ({"kty": "RSA", "alg": "none"}, None),
        ({"kty": "RSA", "use": "enc"}, None),  # an encryption key does not verify signatures
        ({"kty": "EC", "crv": "secp256k1"}, None),
    ],
)
def test_each_key_verifies_one_asymmetric_algorithm(jwk: dict[str, Any], alg: str | None) -> None:
    assert key_algorithm(jwk) == alg


def test_the_selling_partner_is_never_taken_for_the_customer() -> None:
    from tmfstack.apis.documents import customer_of

    assert customer_of({"relatedParty": [SELLER]}) is None
    assert customer_of({"relatedParty": [SELLER, {"id": "c", "role": "buyer"}]}) == {"id": "c", "role": "buyer"}
    assert customer_of({"relatedParty": [{"id": "x", "role": "Customer"}, SELLER]}) == {"id": "x", "role": "Customer"}
