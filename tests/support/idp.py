"""A real OpenID provider for tests: panva's ``oidc-provider`` (Node.js) on loopback.

A test module that needs it loads the session fixture as a plugin::

    pytest_plugins = ["tests.support.idp"]

and get an :class:`OidcProvider`: ``issuer``, ``jwks_uri``, ``token_endpoint``, ``audience`` (the default
resource), ``other_audience``, ``clients`` (the table it was started with) and ``token(client_id, scope=...)``
that fetches a real client-credentials access token (an RFC 9068 ``at+jwt``, signed ES256 by default; the
JWKS also holds an RS256 key) from the provider's token endpoint.

``start_provider(clients=..., ...)`` starts another one with other clients or settings. The npm dependencies
are installed on first use (``npm ci`` in ``tests/idp``, serialised across processes by a file lock). Without
``node``/``npm`` the fixture skips, unless ``TMFSTACK_REQUIRE_SERVICES=1``, where it fails.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

IDP_DIR = Path(__file__).resolve().parents[1] / "idp"
PROVIDER_JS = IDP_DIR / "provider.mjs"
STAMP = IDP_DIR / "node_modules" / ".tmfstack-install-stamp"

DEFAULT_AUDIENCE = "urn:tmfstack:api"
OTHER_AUDIENCE = "urn:other:api"
ALL_SCOPES = "tmf620:read tmf620:write tmf622:read tmf622:write admin"
PARTNER_SCOPES = "tmf620:read tmf622:read tmf622:write"
SHORT_TTL = 2
MIN_NODE_MAJOR = 18

Auth = Literal["basic", "post"]
_AUTH_METHOD = {"basic": "client_secret_basic", "post": "client_secret_post"}


@dataclass(frozen=True)
class IdpClient:
    """One registered client: what it may ask for and what its tokens carry."""

    client_id: str
    client_secret: str
    party_id: str | None = None
    auth: Auth = "basic"  # its registered token_endpoint_auth_method (oidc-provider accepts basic and post alike)
    scope: str = ALL_SCOPES  # the scopes it may request; more is refused with invalid_scope
    access_token_ttl: int | None = None  # seconds; None: the provider's default_ttl


def default_clients() -> tuple[IdpClient, ...]:
    """The fixture's clients, with secrets fresh for each session."""

    def secret() -> str:
        return secrets.token_urlsafe(24)

    return (
        IdpClient("operator", secret()),
        IdpClient("partner-a", secret(), party_id="org-a", scope=PARTNER_SCOPES),
        IdpClient("partner-b", secret(), party_id="org-b", scope=PARTNER_SCOPES, auth="post"),
        IdpClient("short-lived", secret(), party_id="org-a", scope=PARTNER_SCOPES, access_token_ttl=SHORT_TTL),
    )


class IdpUnavailable(Exception):
    """node or npm is missing or too old here."""


class TokenError(Exception):
    """The token endpoint said no."""

    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        try:
            self.body: dict[str, Any] = response.json()
        except ValueError:
            self.body = {"raw": response.text}
        self.error = self.body.get("error")
        super().__init__(f"token endpoint answered {self.status_code}: {self.body}")


class OidcProvider:
    """A running provider and the clients it knows."""

    def __init__(
        self,
        issuer: str,
        discovery: dict[str, Any],
        clients: Sequence[IdpClient],
        audience: str,
        other_audience: str | None,
        process: subprocess.Popen[str],
        stderr_path: Path,
        startup_seconds: float,
    ) -> None:
        self.issuer = issuer
        self.discovery = discovery
        self.jwks_uri: str = discovery["jwks_uri"]
        self.token_endpoint: str = discovery["token_endpoint"]
        self.audience = audience
        self.other_audience = other_audience
        self.clients: dict[str, IdpClient] = {c.client_id: c for c in clients}
        self.process = process
        self.stderr_path = stderr_path
        self.startup_seconds = startup_seconds
        self.http = httpx.Client(timeout=10.0, trust_env=False)

    def token_response(
        self,
        client_id: str,
        *,
        scope: str,
        resource: str | None = None,
        auth: Auth = "basic",
        secret: str | None = None,
    ) -> httpx.Response:
        """The raw token endpoint answer to a client-credentials request (``secret`` overrides the client's)."""
        if secret is None:
            client = self.clients.get(client_id)
            secret = client.client_secret if client else "no-such-client"
        data = {"grant_type": "client_credentials"}
        if scope:
            data["scope"] = scope
        if resource is not None:
            data["resource"] = resource
        basic: tuple[str, str] | None = None
        if auth == "basic":
            basic = (client_id, secret)  # ids and secrets here are URL-safe: no form-encoding needed
        elif auth == "post":
            data.update(client_id=client_id, client_secret=secret)
        else:
            raise ValueError(f"auth must be 'basic' or 'post', not {auth!r}")
        return self.http.post(self.token_endpoint, data=data, auth=basic)

    def token(self, client_id: str, *, scope: str, resource: str | None = None, auth: Auth = "basic") -> str:
        """A real access token (an at+jwt) for ``client_id``; raises :class:`TokenError` when refused."""
        response = self.token_response(client_id, scope=scope, resource=resource, auth=auth)
        if response.status_code != 200:
            raise TokenError(response)
        return str(response.json()["access_token"])

    def jwks(self) -> dict[str, Any]:
        """The provider's public keys, fetched over HTTP."""
        response = self.http.get(self.jwks_uri)
        response.raise_for_status()
        return dict(response.json())

    def stderr(self) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def close(self) -> None:
        self.http.close()
        _stop(self.process)


# -- npm install ---------------------------------------------------------------------------------


def skip_or_fail(reason: str) -> None:
    """``pytest.skip``, or ``pytest.fail`` where ``TMFSTACK_REQUIRE_SERVICES=1`` (CI)."""
    if os.environ.get("TMFSTACK_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{reason} (TMFSTACK_REQUIRE_SERVICES=1)", pytrace=False)
    pytest.skip(reason)


def _tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise IdpUnavailable("the OpenID provider tests need Node.js and npm (node/npm not on PATH)")
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout.strip()
    match = re.match(r"v(\d+)\.", version)
    if not match or int(match.group(1)) < MIN_NODE_MAJOR:
        raise IdpUnavailable(f"the OpenID provider tests need Node.js >= {MIN_NODE_MAJOR}, found {version or '?'}")
    return node, npm


def _install_fingerprint(node: str) -> str:
    digest = hashlib.sha256()
    for name in ("package.json", "package-lock.json"):
        digest.update((IDP_DIR / name).read_bytes())
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    digest.update(node_version.encode())
    return digest.hexdigest()


def _installed(fingerprint: str) -> bool:
    try:
        return STAMP.read_text().strip() == fingerprint and (IDP_DIR / "node_modules" / "oidc-provider").is_dir()
    except OSError:
        return False


def ensure_npm_dependencies(node: str, npm: str) -> None:
    """``npm ci`` in tests/idp unless node_modules matches package-lock.json and this node (one process at a time)."""
    fingerprint = _install_fingerprint(node)
    if _installed(fingerprint):
        return
    lock_name = "tmfstack-idp-npm-" + hashlib.sha256(str(IDP_DIR).encode()).hexdigest()[:16] + ".lock"
    with open(Path(tempfile.gettempdir()) / lock_name, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _installed(fingerprint):  # another session installed it while this one waited
                return
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund"],
                cwd=IDP_DIR,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci in {IDP_DIR} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
            STAMP.write_text(fingerprint + "\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# -- the provider process ------------------------------------------------------------------------


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            with contextlib.suppress(OSError):
                stream.close()


def _pump(stream: Any, lines: queue.Queue[str | None]) -> None:
    """Read the provider's stdout to its end, so it never blocks on a full pipe."""
    for line in stream:
        lines.put(line)
    lines.put(None)


@contextlib.contextmanager
def start_provider(
    workdir: Path,
    *,
    clients: Sequence[IdpClient] | None = None,
    audience: str = DEFAULT_AUDIENCE,
    resources: Mapping[str, Mapping[str, Any]] | None = None,
    access_token_alg: Literal["ES256", "RS256"] = "ES256",
    default_ttl: int = 300,
    timeout: float = 30.0,
) -> Iterator[OidcProvider]:
    """Run ``tests/idp/provider.mjs`` on a free loopback port for the ``with`` block.

    ``resources`` maps resource indicators to ``{"scope": "...", "alg"?: "RS256", "ttl"?: seconds}``;
    by default ``audience`` and ``OTHER_AUDIENCE``, both with every scope in ``ALL_SCOPES``.
    Raises :class:`IdpUnavailable` when node/npm are missing.
    """
    started = time.monotonic()
    node, npm = _tools()
    ensure_npm_dependencies(node, npm)
    clients = tuple(clients if clients is not None else default_clients())
    if resources is None:
        resources = {audience: {"scope": ALL_SCOPES}, OTHER_AUDIENCE: {"scope": ALL_SCOPES}}
    other = next((r for r in resources if r != audience), None)
    config = {
        "access_token_alg": access_token_alg,
        "default_resource": audience,
        "default_ttl": default_ttl,
        "resources": {k: dict(v) for k, v in resources.items()},
        "clients": [
            {
                **{k: v for k, v in asdict(c).items() if v is not None and k != "auth"},
                "auth": _AUTH_METHOD[c.auth],
            }
            for c in clients
        ],
    }
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "idp-config.json"
    config_path.write_text(json.dumps(config, indent=2))
    stderr_path = workdir / "idp-stderr.log"

    with stderr_path.open("w") as stderr:
        process = subprocess.Popen(
            [node, str(PROVIDER_JS), "--port", "0", "--config", str(config_path), "--stdin-lifeline"],
            cwd=IDP_DIR,
            stdin=subprocess.PIPE,  # closed when this process dies: the provider then exits by itself
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
    provider: OidcProvider | None = None
    try:
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=_pump, args=(process.stdout, lines), daemon=True, name="idp-stdout").start()
        issuer = _wait_ready(process, lines, stderr_path, started + timeout)
        discovery = httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=10.0, trust_env=False).json()
        assert discovery["issuer"] == issuer, discovery
        provider = OidcProvider(
            issuer, discovery, clients, audience, other, process, stderr_path, time.monotonic() - started
        )
        yield provider
    finally:
        if provider is not None:
            provider.close()
        else:
            _stop(process)


def _wait_ready(process: subprocess.Popen[str], lines: queue.Queue[str | None], stderr: Path, deadline: float) -> str:
    seen: list[str] = []
    while True:
        left = deadline - time.monotonic()
        line = None
        if left > 0:
            try:
                line = lines.get(timeout=min(left, 0.5))
            except queue.Empty:
                continue
            if line is not None:
                seen.append(line)
                if line.startswith("READY "):
                    return line.split()[1]
                continue
        # stdout closed or timed out
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=1)
        why = f"exited with {process.returncode}" if process.poll() is not None else "never printed READY"
        _stop(process)
        raise AssertionError(
            f"the OpenID provider {why}:\nstdout:\n{''.join(seen)}\nstderr:\n{stderr.read_text(errors='replace')}"
        )


@pytest.fixture(scope="session")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """One provider for the session with :func:`default_clients`, audience ``urn:tmfstack:api``."""
    try:
        with start_provider(tmp_path_factory.mktemp("idp")) as provider:
            yield provider
    except IdpUnavailable as exc:
        skip_or_fail(str(exc))
