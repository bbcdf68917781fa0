"""Which addresses outbound calls may reach, and the early check of a URL when it is stored.

The rule: globally routable unicast addresses only, plus the CIDRs the operator allows
(``TMFSTACK_ALLOW_PRIVATE_CALLBACKS``). Cloud metadata services stay forbidden unless an
entry names exactly their address. IPv6 forms that carry an IPv4 (mapped, compatible,
NAT64, 6to4) are judged by that IPv4 too. ``outbound.py`` applies this at connect time.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from ..errors import BadRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

#: cloud metadata and credential services: forbidden even when a broad allowed CIDR covers them
METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",  # AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle, Hetzner… (IMDS)
        "169.254.170.2",  # AWS ECS task credentials
        "169.254.170.23",  # AWS EKS pod identity agent
        "169.254.0.23",  # Tencent Cloud
        "100.100.100.200",  # Alibaba Cloud
        "168.63.129.16",  # Azure WireServer (a public-looking address)
        "192.0.0.192",  # Oracle Cloud (legacy)
        "fd00:ec2::254",  # AWS IMDS over IPv6
        "fd00:ec2::23",  # AWS EKS pod identity agent over IPv6
    )
)
#: special-purpose ranges some Python versions still call global
_SPECIAL = tuple(
    ipaddress.ip_network(n)
    for n in ("192.0.0.0/24", "198.18.0.0/15", "64:ff9b:1::/48", "fec0::/10", "2001:db8::/32", "100::/64")
)
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
#: IPv6 forms that carry an IPv4 destination in their last 32 bits; judged by that IPv4 alone
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_COMPAT = ipaddress.ip_network("::/96")
SCHEMES = ("http", "https")


#: (host, port): the host a lower-case name or a normalised IP text; port None: every port
Endpoint = tuple[str, int | None]
_DEFAULT_PORTS = {"http": 80, "https": 443}
#: what a socket bound to the unspecified address also answers on
_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
OWN = "own address"  #: the refusal of a call to the server itself


@dataclass(frozen=True)
class AddressPolicy:
    """Which addresses outbound calls may reach: globally routable ones, plus the operator's CIDRs,
    never the server's own endpoints (``own``), whatever the CIDRs allow: a callback to itself
    would turn every event into more events."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    own: frozenset[Endpoint] = frozenset()

    @classmethod
    def parse(cls, text: str, own: frozenset[Endpoint] = frozenset()) -> AddressPolicy:
        """``"127.0.0.0/8, ::1/128"``; empty: public addresses only. ValueError names a malformed entry."""
        networks = []
        for item in (part.strip() for part in text.split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"not a CIDR in the outbound allow-list: {item!r}") from None
        return cls(tuple(networks), own)

    def is_own(self, host: str, port: int | None) -> bool:
        """Whether ``host`` (a name or an address) at ``port`` is one of the server's own endpoints."""
        key = host_key(host)
        return (key, port) in self.own or (key, None) in self.own

    def own_names(self) -> list[tuple[str, int | None]]:
        """The own endpoints named by a host name (not an address): resolved when calls are checked."""
        return [(h, p) for h, p in self.own if literal_ip(h) is None]

    def allowed(self, ip: str | IPAddress) -> bool:
        return self.refusal(ip) is None

    def refusal(self, ip: str | IPAddress) -> str | None:
        """Why ``ip`` may not be reached (e.g. "loopback"), or None when it may."""
        address = ipaddress.ip_address(ip.strip("[]")) if isinstance(ip, str) else ip
        if isinstance(address, ipaddress.IPv6Address):
            embedded = _wrapped_ipv4(address)
            if embedded is not None:  # a socket to it reaches the IPv4 (dual stack, NAT64)
                return self._refusal(embedded)
            why = self._refusal(address)
            if why is None and address.sixtofour is not None:
                inner = self._refusal(address.sixtofour)
                return None if inner is None else f"6to4 of {address.sixtofour}: {inner}"
            return why
        return self._refusal(address)

    def _refusal(self, ip: IPAddress) -> str | None:
        if ip in METADATA:
            # only an entry naming exactly this address opens it, never a broad range
            exact = any(n.num_addresses == 1 and ip in n for n in self.allowed_networks)
            return None if exact else "cloud metadata service"
        if any(ip in n for n in self.allowed_networks):
            return None
        return _category(ip)


def _wrapped_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or (ip in _COMPAT and int(ip) > 1):  # ::/96 minus :: and ::1
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _category(ip: IPAddress) -> str | None:
    """The kind of non-public address ``ip`` is; None for a globally routable unicast address."""
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_multicast, "multicast"),
        (ip.is_link_local, "link-local"),
        (ip in _CGNAT, "shared address space"),
        (ip.is_reserved, "reserved"),
        (ip.is_private, "private"),
        (any(ip in n for n in _SPECIAL), "special-purpose"),
        (not ip.is_global, "not globally routable"),
    )
    return next((why for hit, why in checks if hit), None)


# -- early check when a URL is stored ----------------------------------------------------------

_NUMERIC_HOST = re.compile(r"^[0-9a-fx.]+$")  # what inet_aton may read as an IPv4 (127.1, 0x7f000001)


def literal_ip(host: str) -> IPAddress | None:
    """The address a host written as an IP literal means, in any spelling the resolver accepts."""
    host = host.strip("[]").rstrip(".").lower()
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    if _NUMERIC_HOST.match(host):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def host_key(host: str) -> str:
    """``host`` as own endpoints are keyed: an address in its one canonical spelling (IPv4 inside
    IPv6 unwrapped), a name lower-case without its final dot."""
    ip = literal_ip(host)
    if ip is None:
        return host.strip("[]").rstrip(".").lower()
    inner = _wrapped_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return str(inner or ip)


def own_endpoints(urls: list[str], listen: tuple[str, int] | None = None) -> frozenset[Endpoint]:
    """The server's own endpoints: ``listen`` (host, port), and each of ``urls``: a URL (its port, or
    the scheme's), or ``host[:port]`` (no port: every port of that host). A wildcard listen address
    (0.0.0.0, ::) also answers on loopback and on the machine's own name."""
    found: set[Endpoint] = set()
    for url in (u.strip() for u in urls):
        if not url:
            continue
        parts = urlsplit(url if "//" in url else f"//{url}")
        if not parts.hostname:
            raise ValueError(f"not a URL or host[:port] of this server: {url!r}")
        found.add((host_key(parts.hostname), parts.port or _DEFAULT_PORTS.get(parts.scheme)))
    if listen is not None:
        host, port = listen
        key = host_key(host)
        found.add((key, port))
        ip = literal_ip(key)
        names: tuple[str, ...] = ()
        if ip is not None and ip.is_unspecified:
            names = (*_LOOPBACK_NAMES, socket.gethostname())
        if (ip is not None and ip.is_loopback) or key == "localhost":
            names = _LOOPBACK_NAMES
        found.update((host_key(n), port) for n in names)
    return frozenset(found)


def redact_url(url: str) -> str:
    """``url`` as it may be shown to someone but its owner: no credentials, query values and fragment
    replaced (tokens are often put there)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "(malformed URL)"
    host = f"[{host}]" if ":" in host else host
    query = "&".join(f"{k}=REDACTED" if v else k for k, v in parse_qsl(parts.query, keep_blank_values=True))
    return urlunsplit((parts.scheme, host + port, parts.path, query, ""))


def check_destination(url: str, policy: AddressPolicy, *, code: str = "INVALID_URL") -> None:
    """Refuse (BadRequest) a URL outbound calls must never take: not http(s), no host, credentials
    in it, one of the server's own endpoints, or a host that is a forbidden IP literal or
    ``localhost``. Names are checked at connect."""
    try:
        parts = urlsplit(url)
        host, _ = parts.hostname, parts.port  # .port raises on a malformed port
    except ValueError:
        raise BadRequest("the URL is malformed", code=code) from None
    if parts.scheme not in SCHEMES:
        raise BadRequest(f"the URL must be http:// or https://, not {parts.scheme or 'relative'!r}", code=code)
    if not host:
        raise BadRequest("the URL has no host", code=code)
    if parts.username is not None or parts.password is not None:
        raise BadRequest("credentials in the URL are refused: they would be stored and shown", code=code)
    if any(c.isspace() or not c.isprintable() for c in host):
        raise BadRequest("the URL's host is malformed", code=code)
    if policy.is_own(host, parts.port or _DEFAULT_PORTS[parts.scheme]):
        raise BadRequest("the URL points at this server itself", code="DESTINATION_NOT_ALLOWED")
    ip = literal_ip(host)
    name = host.rstrip(".")
    if ip is None and (name == "localhost" or name.endswith(".localhost")):
        ip = ipaddress.IPv4Address("127.0.0.1")
    why = None if ip is None else policy.refusal(ip)
    if why is not None:
        raise BadRequest(f"destination {ip} is not allowed ({why})", code="DESTINATION_NOT_ALLOWED")
