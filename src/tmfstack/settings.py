"""Runtime settings, from command-line options or ``TMFSTACK_*`` environment variables."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .limits import Limits
from .net.addresses import AddressPolicy, host_key, own_endpoints


def _env(name: str, default: str) -> str:
    return os.environ.get(f"TMFSTACK_{name}", default)


#: where ``serve`` listens by default; the issuer of tokens ``tmfstack token`` prints
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8080"
_LOCAL_NAMES = ("localhost", "127.0.0.1", "::1")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*/\s*(s|sec|second|m|min|minute)\s*$")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def parse_rate(text: str) -> float:
    """``"50/s"`` or ``"600/min"`` as requests per second."""
    found = _RATE.match(text)
    if found is None or float(found.group(1)) <= 0:
        raise ValueError(f"a rate is N/s or N/min with N > 0, got {text!r}")
    per = 1.0 if found.group(2).startswith("s") else 60.0
    return float(found.group(1)) / per


@dataclass(frozen=True)
class DomainSettings:
    """What the domain modules (ordering, activation, qualification) read, on ``engine.domain``:
    built from ``Settings`` (``Settings.domain``), parsed and checked once, when the engine is built."""

    #: refuse invalid product orders synchronously (422) instead of accepting then rejecting them
    strict_orders: bool = False
    #: submitted prices that disagree with the catalog: "reject" (422) or "catalog" (replaced, noted)
    submitted_prices: str = "reject"
    #: the external activation endpoint (HTTP adapter); empty: the built-in simulator
    activation_url: str = ""
    #: the simulator's configuration (``Settings.simulator`` parsed)
    simulator: Mapping[str, object] = field(default_factory=dict)
    #: what a failed activation does to its order: "fail" (compensate) or "hold" (wait for an operator)
    activation_failure: str = "fail"
    #: how long a qualification answer holds, seconds (0: the module's default)
    qualification_validity: float = 86400.0


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", "sqlite:///tmfstack.db"))
    #: base of every href; defaults to http://<host>:<port> of ``serve``
    public_url: str = field(default_factory=lambda: _env("PUBLIC_URL", ""))
    default_limit: int = field(default_factory=lambda: int(_env("DEFAULT_LIMIT", "100")))
    max_limit: int = field(default_factory=lambda: int(_env("MAX_LIMIT", "1000")))
    export_dir: Path = field(default_factory=lambda: Path(_env("EXPORT_DIR", "exports")))
    #: the only folder ``file://`` import URLs may name (besides the package's demo data)
    import_dir: Path = field(default_factory=lambda: Path(_env("IMPORT_DIR", "imports")))
    #: event delivery: attempts before a delivery is parked as dead, first retry delay (s)
    max_attempts: int = field(default_factory=lambda: int(_env("MAX_ATTEMPTS", "10")))
    retry_base: float = field(default_factory=lambda: float(_env("RETRY_BASE", "1.0")))
    retry_max: float = field(default_factory=lambda: float(_env("RETRY_MAX", "300")))
    dispatcher: bool = field(default_factory=lambda: _env("DISPATCHER", "1") != "0")
    #: refuse invalid product orders synchronously (422) instead of accepting then rejecting them
    strict_orders: bool = field(default_factory=lambda: _env("STRICT_ORDERS", "0") == "1")
    #: what a product order's submitted prices that disagree with the catalog do: "reject" (422
    #: PRICE_MISMATCH) or "catalog" (the catalog's prices are stored instead, and noted)
    submitted_prices: str = field(default_factory=lambda: _env("SUBMITTED_PRICES", "reject"))
    #: durable tasks (order manager steps): attempts before a failing task is parked for an
    #: operator, and its retry delays (doubling from base up to max), seconds
    task_max_attempts: int = field(default_factory=lambda: int(_env("TASK_MAX_ATTEMPTS", "10")))
    task_retry_base: float = field(default_factory=lambda: float(_env("TASK_RETRY_BASE", "0.1")))
    task_retry_max: float = field(default_factory=lambda: float(_env("TASK_RETRY_MAX", "60")))
    #: run the orchestration task runner (order manager) in this process
    workers: bool = field(default_factory=lambda: _env("WORKERS", "1") != "0")
    #: activation: an external endpoint (HTTP adapter), else the built-in simulator configured
    #: by a JSON object or @file: {"seed": 1, "default": {"latency": 0, "failureRate": 0}, "<spec id>": {...}}
    activation_url: str = field(default_factory=lambda: _env("ACTIVATION_URL", ""))
    simulator: str = field(default_factory=lambda: _env("SIMULATOR", "{}"))
    #: what a failed activation does to its order: "fail" (compensate) or "hold" (wait for an operator)
    activation_failure: str = field(default_factory=lambda: _env("ACTIVATION_FAILURE", "fail"))
    #: how long a qualification answer (TMF679, TMF645) holds, in seconds (its expirationDate)
    qualification_validity: float = field(default_factory=lambda: float(_env("QUALIFICATION_VALIDITY", "86400")))

    #: how long the answer to a POST with an ``Idempotency-Key`` is kept and replayed, seconds
    idempotency_retention: float = field(default_factory=lambda: float(_env("IDEMPOTENCY_RETENTION", "86400")))

    #: TMF685 reservations: resources one request may ask, resources one customer may hold
    reservation_max: int = field(default_factory=lambda: int(_env("RESERVATION_MAX", "100")))
    reservation_customer_max: int = field(default_factory=lambda: int(_env("RESERVATION_CUSTOMER_MAX", "1000")))

    # -- security (README: Security) -----------------------------------------------------
    #: bearer tokens on every non-public route; off only on purpose (``--no-auth``), on loopback
    auth: bool = field(default_factory=lambda: _env("AUTH", "on").lower() not in ("off", "0", "false", "no"))
    #: an external OpenID provider (its issuer URL): tmfstack is then a resource server only
    oauth_issuer: str = field(default_factory=lambda: _env("OAUTH_ISSUER", ""))
    #: the ``aud`` tokens must carry (RFC 9068); the embedded issuer writes it
    oauth_audience: str = field(default_factory=lambda: _env("OAUTH_AUDIENCE", "tmfstack"))
    #: the claim naming the partner party a client acts for
    oauth_party_claim: str = field(default_factory=lambda: _env("OAUTH_PARTY_CLAIM", "party_id"))
    #: clock skew tolerated on exp / nbf / iat, seconds
    oauth_leeway: float = field(default_factory=lambda: float(_env("OAUTH_LEEWAY", "30")))
    #: lifetime of the tokens the embedded issuer signs, seconds
    token_ttl: int = field(default_factory=lambda: int(_env("TOKEN_TTL", "3600")))
    #: encrypts the signing keys at rest in the store when set (any text; keep it secret)
    key_passphrase: str = field(default_factory=lambda: _env("KEY_PASSPHRASE", ""))
    #: per client (clients may override): steady rate (N/s or N/min) and burst
    rate: str = field(default_factory=lambda: _env("RATE", "100/s"))
    burst: int = field(default_factory=lambda: int(_env("BURST", "200")))
    #: per source address, for /oauth2/token and requests without a valid token
    anon_rate: str = field(default_factory=lambda: _env("ANON_RATE", "10/s"))
    anon_burst: int = field(default_factory=lambda: int(_env("ANON_BURST", "40")))
    #: shared rate-limit buckets for several replicas (redis://host:6379/0); empty: in memory
    redis_url: str = field(default_factory=lambda: _env("REDIS_URL", ""))
    #: CIDRs outbound calls (hub callbacks, http imports, the activation adapter) may reach
    #: although private, loopback or link-local, e.g. "10.1.0.0/16,127.0.0.0/8"
    allow_private_callbacks: str = field(default_factory=lambda: _env("ALLOW_PRIVATE_CALLBACKS", ""))
    #: addresses of reverse proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips)
    forwarded_allow_ips: str = field(default_factory=lambda: _env("FORWARDED_ALLOW_IPS", ""))
    #: bounds on the work and storage one request may cause (``TMFSTACK_MAX_*``, ``limits.py``)
    limits: Limits = field(default_factory=Limits)
    #: where ``serve`` listens (set by the command line): hub callbacks may never point there
    listen_host: str = field(default_factory=lambda: _env("HOST", "127.0.0.1"))
    listen_port: int = field(default_factory=lambda: int(_env("PORT", "8080")))
    #: more URLs or host[:port] that reach this server (a load balancer, another name), comma-separated
    own_urls: str = field(default_factory=lambda: _env("OWN_URLS", ""))
    #: Host header values /admin/* accepts (comma-separated names, port ignored); empty: the listen
    #: host, the public URL's host and the localhost names
    allowed_hosts: str = field(default_factory=lambda: _env("ALLOWED_HOSTS", ""))
    #: subscriptions one client may register per API
    hub_limit: int = field(default_factory=lambda: int(_env("HUB_LIMIT", "20")))
    #: deliveries in flight at once per process; subscribers that failed lately get a quarter of them
    delivery_concurrency: int = field(default_factory=lambda: int(_env("DELIVERY_CONCURRENCY", "256")))
    #: whole-call deadline of a delivery, and of one to a subscriber whose last attempt failed (s)
    delivery_timeout: float = field(default_factory=lambda: float(_env("DELIVERY_TIMEOUT", "5")))
    delivery_slow_timeout: float = field(default_factory=lambda: float(_env("DELIVERY_SLOW_TIMEOUT", "2")))

    def simulator_config(self) -> dict[str, object]:
        text = self.simulator.strip()
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
        value = json.loads(text or "{}")
        if not isinstance(value, dict):
            raise ValueError("TMFSTACK_SIMULATOR must be a JSON object")
        if self.activation_failure not in ("fail", "hold"):
            raise ValueError("TMFSTACK_ACTIVATION_FAILURE must be fail or hold")
        if self.submitted_prices not in ("reject", "catalog"):
            raise ValueError("TMFSTACK_SUBMITTED_PRICES must be reject or catalog")
        if self.task_max_attempts < 1 or self.task_retry_base < 0 or self.task_retry_max < self.task_retry_base:
            raise ValueError("TMFSTACK_TASK_MAX_ATTEMPTS must be >= 1 and 0 <= TASK_RETRY_BASE <= TASK_RETRY_MAX")
        return value

    def domain(self) -> DomainSettings:
        """The domain modules' settings, checked (ValueError for a malformed or unknown value)."""
        return DomainSettings(
            strict_orders=self.strict_orders,
            submitted_prices=self.submitted_prices,
            activation_url=self.activation_url,
            simulator=self.simulator_config(),
            activation_failure=self.activation_failure,
            qualification_validity=self.qualification_validity,
        )

    def outbound_policy(self) -> AddressPolicy:
        """Where outbound calls may go: public addresses and ``allow_private_callbacks``, never this
        server's own endpoints (where it listens, its public URL, ``own_urls``, declared host names)."""
        declared = [h for h in _split(self.allowed_hosts) if h.lower() not in _LOCAL_NAMES]
        urls = [self.public_url, *_split(self.own_urls), *declared]
        own = own_endpoints(urls, (self.listen_host, self.listen_port))
        return AddressPolicy.parse(self.allow_private_callbacks, own)

    def host_allowlist(self) -> frozenset[str]:
        """Host header names (lower case, no port) the operator endpoints answer."""
        if self.allowed_hosts.strip():
            return frozenset(host_key(h) for h in _split(self.allowed_hosts))
        public = urlsplit(self.public_url or DEFAULT_PUBLIC_URL).hostname or ""
        return frozenset(host_key(h) for h in (self.listen_host, public, *_LOCAL_NAMES) if h)

    def check(self) -> None:
        """Refuse contradictory or malformed security settings at start (ValueError)."""
        parse_rate(self.rate)
        parse_rate(self.anon_rate)
        if self.burst < 1 or self.anon_burst < 1:
            raise ValueError("bursts must be at least 1")
        if self.oauth_issuer and not self.oauth_issuer.startswith(("https://", "http://")):
            raise ValueError("TMFSTACK_OAUTH_ISSUER must be an http(s) URL")
        if self.hub_limit < 1 or self.delivery_concurrency < 2:
            raise ValueError("TMFSTACK_HUB_LIMIT must be at least 1, TMFSTACK_DELIVERY_CONCURRENCY at least 2")
        if not self.oauth_audience:
            raise ValueError("TMFSTACK_OAUTH_AUDIENCE must not be empty")
        if not self.idempotency_retention > 0:
            raise ValueError("TMFSTACK_IDEMPOTENCY_RETENTION must be a positive number of seconds")
        low = [name for name, value in vars(self.limits).items() if value < 1]
        if low:
            raise ValueError(f"TMFSTACK_MAX_* limits must be at least 1: {', '.join(low)}")
