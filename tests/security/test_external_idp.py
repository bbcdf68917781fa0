"""tmfstack as a resource server of a real OpenID provider (``oidc-provider`` on loopback): its
client-credentials tokens are accepted with their scopes and party, and bad ones refused."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.testclient import TestClient

from tests.support.idp import OidcProvider, start_provider
from tests.support.ordering import ORDERS, mobile, order
from tmfstack.auth.tokens import principal_of
from tmfstack.settings import Settings
from tmfstack.web.app import create_app

pytest_plugins = ["tests.support.idp"]  # the oidc_provider fixture

OFFERINGS = "/tmf-api/productCatalogManagement/v4/productOffering"


@pytest.fixture
def served(secure_settings: Settings, oidc_provider: OidcProvider) -> Iterator[TestClient]:
    settings = dataclasses.replace(
        secure_settings, oauth_issuer=oidc_provider.issuer, oauth_audience=oidc_provider.audience, oauth_leeway=0
    )
    with TestClient(create_app(settings)) as client:
        yield client


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_provider_tokens_are_accepted_with_their_scopes(served: TestClient, oidc_provider: OidcProvider) -> None:
    operator = oidc_provider.token("operator", scope="tmf620:read tmf620:write tmf622:read admin")
    assert served.get(OFFERINGS, headers=bearer(operator)).status_code == 200
    r = served.post(OFFERINGS, json={"name": "IdP-made"}, headers=bearer(operator))
    assert r.status_code == 201, r.text
    assert served.get("/admin/deliveries", headers=bearer(operator)).status_code == 200
    reader = oidc_provider.token("operator", scope="tmf620:read")
    assert served.get(OFFERINGS, headers=bearer(reader)).status_code == 200
    r = served.post(OFFERINGS, json={"name": "x"}, headers=bearer(reader))
    assert r.status_code == 403 and 'scope="tmf620:write"' in r.headers["www-authenticate"]
    assert served.get("/admin/deliveries", headers=bearer(reader)).status_code == 403


def test_the_party_claim_binds_a_client_to_its_partner(served: TestClient, oidc_provider: OidcProvider) -> None:
    a = oidc_provider.token("partner-a", scope="tmf622:read tmf622:write")
    b = oidc_provider.token("partner-b", scope="tmf622:read tmf622:write", auth="post")
    placed = served.post(ORDERS, json=order(mobile("1"), customer="cust-x"), headers=bearer(a))
    assert placed.status_code == 201, placed.text
    assert {"id": "org-a", "role": "Seller", "@referredType": "Organization"} in placed.json()["relatedParty"]
    assert served.get(f"{ORDERS}/{placed.json()['id']}", headers=bearer(a)).status_code == 200
    assert served.get(f"{ORDERS}/{placed.json()['id']}", headers=bearer(b)).status_code == 404
    assert served.get(ORDERS, headers=bearer(b)).headers["x-total-count"] == "0"


def test_the_embedded_token_endpoint_is_not_served(served: TestClient) -> None:
    assert served.post("/oauth2/token", data={"grant_type": "client_credentials"}).status_code == 404
    assert served.get("/.well-known/jwks.json").status_code == 404


def test_bad_provider_tokens_are_refused(
    served: TestClient,
    oidc_provider: OidcProvider,
    tmp_path: Path,
) -> None:
    good = oidc_provider.token("operator", scope="tmf620:read")
    assert served.get(OFFERINGS, headers=bearer(good)).status_code == 200
    header, payload, signature = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    bad: dict[str, str] = {}
    bad["other audience"] = oidc_provider.token("operator", scope="tmf620:read", resource=oidc_provider.other_audience)
    tampered = {**claims, "scope": "tmf620:read tmf620:write admin"}
    bad["tampered"] = f"{header}.{_b64(json.dumps(tampered).encode())}.{signature}"
    stranger = ec.generate_private_key(ec.SECP256R1())
    bad["unknown key"] = jwt.encode(claims, stranger, "ES256", headers={"kid": "not-published", "typ": "at+jwt"})
    published = next(k for k in oidc_provider.jwks()["keys"] if k["kty"] == "RSA")
    confusion_header = _b64(json.dumps({"alg": "HS256", "kid": published["kid"], "typ": "at+jwt"}).encode())
    mac = hmac.new(json.dumps(published).encode(), f"{confusion_header}.{payload}".encode(), hashlib.sha256).digest()
    bad["HS256 with the public key"] = f"{confusion_header}.{payload}.{_b64(mac)}"
    bad["alg none"] = f"{_b64(json.dumps({'alg': 'none', 'typ': 'at+jwt'}).encode())}.{payload}."
    with start_provider(tmp_path / "other") as other:
        bad["other issuer"] = other.token("operator", scope="tmf620:read")
    short = oidc_provider.token("short-lived", scope="tmf620:read")
    assert served.get(OFFERINGS, headers=bearer(short)).status_code == 200
    time.sleep(3.2)  # its 2 s are over (no leeway configured)
    bad["expired"] = short
    for kind, token in bad.items():
        r = served.get(OFFERINGS, headers=bearer(token))
        assert r.status_code == 401, (kind, r.text)
        assert 'error="invalid_token"' in r.headers["www-authenticate"], kind


def test_scopes_may_come_as_scp_arrays() -> None:
    principal = principal_of({"client_id": "c", "scp": ["tmf620:read", "admin"], "exp": 1}, "party_id")
    assert principal.scopes == {"tmf620:read", "admin"}
    principal = principal_of({"sub": "c", "scope": "a b", "exp": 1, "org": "org-z"}, "org")
    assert principal.client_id == "c" and principal.party == "org-z" and principal.scopes == {"a", "b"}
