"""The embedded authorization server: client credentials (RFC 6749 §4.4), RFC 9068 tokens,
RFC 6749 §5.2 errors, keys (JWKS, rotation) and metadata (RFC 8414)."""

from __future__ import annotations

import base64
import time

import jwt
import pytest

from tests.support.security import TOKEN, Secured

CATALOG = "/tmf-api/productCatalogManagement/v4/productOffering"


def _claims(secured: Secured, token: str) -> dict:
    jwks = secured.client.get("/.well-known/jwks.json").json()
    header = jwt.get_unverified_header(token)
    key = next(k for k in jwks["keys"] if k["kid"] == header["kid"])
    return jwt.decode(token, jwt.PyJWK(key).key, algorithms=["ES256"], audience="tmfstack")


def test_client_credentials_with_basic_and_post_give_rfc9068_tokens(secure: Secured) -> None:
    secret = secure.register("acme-portal", ["partner"], party="org-acme")
    basic = secure.token_response("acme-portal", secret, "tmf622:read tmf622:write")
    post = secure.token_response("acme-portal", secret, "tmf620:read", basic=False)
    for r in (basic, post):
        assert r.status_code == 200, r.text
        assert r.headers["cache-control"] == "no-store"
        body = r.json()
        assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert basic.json()["scope"] == "tmf622:read tmf622:write"
    token = basic.json()["access_token"]
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"
    claims = _claims(secure, token)
    assert claims["iss"] == "http://testserver"
    assert claims["sub"] == claims["client_id"] == "acme-portal"
    assert claims["party_id"] == "org-acme"
    assert claims["scope"] == "tmf622:read tmf622:write"
    assert claims["exp"] - claims["iat"] == 3600 and abs(claims["iat"] - time.time()) < 60
    assert len(claims["jti"]) >= 22  # 128 random bits
    # without scope: every scope of the client
    everything = secure.token("acme-portal", secret)
    assert set(_claims(secure, everything)["scope"].split()) == set(secure.security.table.partner)


def test_an_operator_token_names_no_party(secure: Secured) -> None:
    ops = secure.login("ops", ["operator"])
    claims = _claims(secure, ops.token)
    assert "party_id" not in claims
    assert set(claims["scope"].split()) == set(secure.security.table.operator)


@pytest.mark.parametrize(
    "case, status, error",
    [
        ("wrong secret", 401, "invalid_client"),
        ("unknown client", 401, "invalid_client"),
        ("no client authentication", 401, "invalid_client"),
        ("basic and post together", 400, "invalid_request"),
        ("basic not base64", 401, "invalid_client"),
        ("other grant", 400, "unsupported_grant_type"),
        ("no grant", 400, "invalid_request"),
        ("scope not granted", 400, "invalid_scope"),
        ("unknown scope", 400, "invalid_scope"),
        ("repeated parameter", 400, "invalid_request"),
        ("json body", 400, "invalid_request"),
    ],
)
def test_token_errors_are_rfc6749_bodies(secure: Secured, case: str, status: int, error: str) -> None:
    secret = secure.register("acme-portal", ["partner"], party="org-acme")
    c = secure.client
    form = {"grant_type": "client_credentials"}
    if case == "wrong secret":
        r = c.post(TOKEN, data=form, auth=("acme-portal", secret + "x"))
    elif case == "unknown client":
        r = c.post(TOKEN, data=form, auth=("nobody", secret))
    elif case == "no client authentication":
        r = c.post(TOKEN, data=form)
    elif case == "basic and post together":
        r = c.post(
            TOKEN, data={**form, "client_id": "acme-portal", "client_secret": secret}, auth=("acme-portal", secret)
        )
    elif case == "basic not base64":
        r = c.post(TOKEN, data=form, headers={"Authorization": "Basic ***"})
    elif case == "other grant":
        r = c.post(
            TOKEN, data={"grant_type": "password", "username": "u", "password": "p"}, auth=("acme-portal", secret)
        )
    elif case == "no grant":
        r = c.post(TOKEN, data={}, auth=("acme-portal", secret))
    elif case == "scope not granted":
        r = c.post(TOKEN, data={**form, "scope": "tmf622:read admin"}, auth=("acme-portal", secret))
    elif case == "unknown scope":
        r = c.post(TOKEN, data={**form, "scope": "everything"}, auth=("acme-portal", secret))
    elif case == "repeated parameter":
        r = c.post(
            TOKEN,
            content=b"grant_type=client_credentials&grant_type=client_credentials",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            auth=("acme-portal", secret),
        )
    else:
        r = c.post(TOKEN, json=form, auth=("acme-portal", secret))
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == error and body["error_description"]
    assert "access_token" not in body
    assert r.headers["cache-control"] == "no-store"
    if status == 401 and case != "no client authentication":
        assert r.headers["www-authenticate"].startswith("Basic")


def test_basic_credentials_are_form_decoded(secure: Secured) -> None:
    """RFC 6749 §2.3.1: id and secret are form-urlencoded before base64 (a ':' in an id would be %3A)."""
    secret = secure.register("a.b_c-d", ["partner"], party="org-x")
    raw = base64.b64encode(f"a.b_c-d:{secret.replace('-', '%2D')}".encode()).decode()
    r = secure.client.post(TOKEN, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {raw}"})
    assert r.status_code == 200, r.text


def test_revoked_clients_and_rotated_secrets(secure: Secured) -> None:
    partner = secure.login("acme-portal", ["partner"], party="org-acme")
    assert partner.get(CATALOG).status_code == 200
    new_secret = secure.call(secure.security.clients.rotate_secret, "acme-portal")
    assert secure.token_response("acme-portal", partner.secret).status_code == 401  # the old secret is gone
    assert secure.token_response("acme-portal", new_secret).status_code == 200
    assert partner.get(CATALOG).status_code == 200  # tokens are not bound to a secret
    secure.call(secure.security.clients.revoke, "acme-portal")
    assert secure.token_response("acme-portal", new_secret).status_code == 401
    r = partner.get(CATALOG)
    assert r.status_code == 401 and "revoked" in r.json()["message"]


def test_keys_rotate_without_breaking_tokens_already_issued(secure: Secured) -> None:
    ops = secure.login("ops", ["operator"])
    first_kid = jwt.get_unverified_header(ops.token)["kid"]
    assert [k["kid"] for k in secure.client.get("/.well-known/jwks.json").json()["keys"]] == [first_kid]
    keys = secure.security.keys
    assert keys is not None
    second_kid = secure.call(keys.rotate)
    assert second_kid != first_kid
    published = {k["kid"]: k for k in secure.client.get("/.well-known/jwks.json").json()["keys"]}
    assert set(published) == {first_kid, second_kid}
    assert all(k["kty"] == "EC" and k["alg"] == "ES256" and "d" not in k for k in published.values())
    assert ops.get(CATALOG).status_code == 200  # the old key still verifies
    fresh = secure.token("ops", ops.secret)
    assert jwt.get_unverified_header(fresh)["kid"] == second_kid
    assert secure.client.get(CATALOG, headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_metadata_describes_the_token_endpoint(secure: Secured) -> None:
    meta = secure.client.get("/.well-known/oauth-authorization-server").json()
    assert meta["issuer"] == "http://testserver"
    assert meta["token_endpoint"] == "http://testserver/oauth2/token"
    assert meta["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    assert meta["grant_types_supported"] == ["client_credentials"]
    assert set(meta["token_endpoint_auth_methods_supported"]) == {"client_secret_basic", "client_secret_post"}
    assert {"tmf622:write", "admin", "activation"} <= set(meta["scopes_supported"])


def test_only_a_hash_of_the_secret_is_stored(secure: Secured) -> None:
    secret = secure.register("acme-portal", ["partner"], party="org-acme")
    row = secure.call(secure.security.clients.require, "acme-portal")
    assert secret not in row.secret_hash and row.secret_hash.startswith("sha256$")
