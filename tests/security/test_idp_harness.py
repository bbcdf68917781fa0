"""The OpenID provider harness itself: real tokens from oidc-provider, checked with PyJWT against its JWKS."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

import jwt
import pytest

from tests.support.idp import (
    ALL_SCOPES,
    DEFAULT_AUDIENCE,
    OTHER_AUDIENCE,
    PARTNER_SCOPES,
    SHORT_TTL,
    IdpClient,
    IdpUnavailable,
    OidcProvider,
    TokenError,
    skip_or_fail,
    start_provider,
)

pytest_plugins = ["tests.support.idp"]  # the oidc_provider fixture


def verify(idp: OidcProvider, token: str, *, audience: str, **options: Any) -> dict[str, Any]:
    """Check ``token`` the way a resource server does: key by kid from the JWKS fetched over HTTP."""
    header = jwt.get_unverified_header(token)
    assert header["typ"] == "at+jwt"
    keys = jwt.PyJWKSet.from_dict(idp.jwks())
    key = next(k for k in keys.keys if k.key_id == header["kid"])
    return jwt.decode(
        token,
        key=key,
        algorithms=["ES256", "RS256"],
        audience=audience,
        issuer=idp.issuer,
        options={"require": ["exp", "iat", "iss", "aud", "sub", "client_id", "jti"], **options},
    )


def test_discovery_and_jwks(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    assert idp.issuer.startswith("http://127.0.0.1:")
    assert idp.discovery["issuer"] == idp.issuer
    assert idp.jwks_uri == f"{idp.issuer}/jwks"
    assert idp.token_endpoint == f"{idp.issuer}/token"
    assert "client_credentials" in idp.discovery["grant_types_supported"]
    assert {"client_secret_basic", "client_secret_post"} <= set(idp.discovery["token_endpoint_auth_methods_supported"])
    keys = idp.jwks()["keys"]
    assert {(k["kty"], k["alg"]) for k in keys} == {("EC", "ES256"), ("RSA", "RS256")}
    assert all("d" not in k for k in keys), "private key material published"
    assert idp.audience == DEFAULT_AUDIENCE
    assert idp.other_audience == OTHER_AUDIENCE


def test_partner_token_verifies_with_claims(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    before = int(time.time())
    token = idp.token("partner-a", scope="tmf620:read tmf622:write")
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    claims = verify(idp, token, audience=DEFAULT_AUDIENCE)
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == DEFAULT_AUDIENCE
    assert claims["scope"] == "tmf620:read tmf622:write"
    assert claims["client_id"] == claims["sub"] == "partner-a"
    assert claims["party_id"] == "org-a" == idp.clients["partner-a"].party_id
    assert before - 5 <= claims["iat"] <= int(time.time()) + 5
    assert claims["exp"] - claims["iat"] == 300


def test_operator_token_has_no_party(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    claims = verify(idp, idp.token("operator", scope=ALL_SCOPES), audience=DEFAULT_AUDIENCE)
    assert claims["sub"] == "operator"
    assert "party_id" not in claims
    assert claims["scope"].split() == ALL_SCOPES.split()


def test_explicit_default_resource_is_the_same_audience(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    token = idp.token("operator", scope="admin", resource=DEFAULT_AUDIENCE)
    assert verify(idp, token, audience=DEFAULT_AUDIENCE)["scope"] == "admin"


def test_other_audience(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    token = idp.token("partner-a", scope="tmf620:read", resource=OTHER_AUDIENCE)
    assert verify(idp, token, audience=OTHER_AUDIENCE)["aud"] == OTHER_AUDIENCE
    with pytest.raises(jwt.InvalidAudienceError):
        verify(idp, token, audience=DEFAULT_AUDIENCE)


def test_unknown_resource_is_refused(oidc_provider: OidcProvider) -> None:
    with pytest.raises(TokenError) as caught:
        oidc_provider.token("operator", scope="admin", resource="urn:unknown:api")
    assert (caught.value.status_code, caught.value.error) == (400, "invalid_target")


def test_short_lived_token_expires(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    token = idp.token("short-lived", scope="tmf620:read")
    claims = verify(idp, token, audience=DEFAULT_AUDIENCE)
    assert claims["exp"] - claims["iat"] == SHORT_TTL
    time.sleep(SHORT_TTL + 1)
    with pytest.raises(jwt.ExpiredSignatureError):
        verify(idp, token, audience=DEFAULT_AUDIENCE)


def test_client_secret_post(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    assert idp.clients["partner-b"].auth == "post"
    claims = verify(idp, idp.token("partner-b", scope="tmf622:read", auth="post"), audience=DEFAULT_AUDIENCE)
    assert (claims["sub"], claims["party_id"], claims["scope"]) == ("partner-b", "org-b", "tmf622:read")
    # oidc-provider takes client_secret_basic and client_secret_post as one method: either works for either client
    assert verify(idp, idp.token("partner-b", scope="tmf622:read"), audience=DEFAULT_AUDIENCE)["sub"] == "partner-b"
    assert verify(idp, idp.token("partner-a", scope="tmf620:read", auth="post"), audience=DEFAULT_AUDIENCE)["sub"] == (
        "partner-a"
    )


def test_wrong_secret_is_refused(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    for client_id, auth in (("partner-a", "basic"), ("partner-b", "post")):
        response = idp.token_response(client_id, scope="tmf620:read", auth=auth, secret="not-the-secret")
        assert response.status_code == 401, response.text
        assert response.json()["error"] == "invalid_client"
    with pytest.raises(TokenError) as caught:
        idp.token("nobody", scope="tmf620:read")
    assert (caught.value.status_code, caught.value.error) == (401, "invalid_client")


def test_scope_outside_the_client_is_refused(oidc_provider: OidcProvider) -> None:
    assert "admin" not in PARTNER_SCOPES.split()
    with pytest.raises(TokenError) as caught:
        oidc_provider.token("partner-a", scope="tmf620:read admin")
    assert (caught.value.status_code, caught.value.error) == (400, "invalid_scope")


def test_forged_and_tampered_tokens_fail(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    token = idp.token("partner-a", scope="tmf620:read")
    head, payload, signature = token.split(".")
    tampered = f"{head}.{payload}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    with pytest.raises(jwt.InvalidSignatureError):
        verify(idp, tampered, audience=DEFAULT_AUDIENCE)


def test_jwks_client_and_provider_log(oidc_provider: OidcProvider) -> None:
    idp = oidc_provider
    token = idp.token("operator", scope="tmf620:read")
    key = jwt.PyJWKClient(idp.jwks_uri).get_signing_key_from_jwt(token)
    claims = jwt.decode(token, key, algorithms=["ES256"], audience=DEFAULT_AUDIENCE, issuer=idp.issuer)
    assert claims["client_id"] == "operator"
    assert "server_error" not in idp.stderr()
    assert idp.process.poll() is None


def test_own_provider_rs256_and_clients(tmp_path: Path) -> None:
    """start_provider: another client table, RS256 tokens, a resource of its own; stopped on leaving."""
    client = IdpClient("svc", "svc-secret-0123456789", party_id="org-z", scope="tmf620:read", access_token_ttl=60)
    api = "https://api.example.test/tmf"
    with contextlib.ExitStack() as stack:
        try:
            idp = stack.enter_context(
                start_provider(
                    tmp_path,
                    clients=[client],
                    audience=api,
                    resources={api: {"scope": "tmf620:read tmf620:write"}},
                    access_token_alg="RS256",
                )
            )
        except IdpUnavailable as exc:
            skip_or_fail(str(exc))
        assert idp.other_audience is None
        with pytest.raises(TokenError) as caught:
            idp.token("svc", scope="tmf620:read tmf620:write")
        assert (caught.value.status_code, caught.value.error) == (400, "invalid_scope")
        token = idp.token("svc", scope="tmf620:read")
        assert jwt.get_unverified_header(token)["alg"] == "RS256"
        claims = verify(idp, token, audience=api)
        assert (claims["sub"], claims["party_id"], claims["scope"]) == ("svc", "org-z", "tmf620:read")
        assert claims["exp"] - claims["iat"] == 60
    assert idp.process.poll() is not None
