"""OAuth scopes: one read and one write scope per served API, plus ``admin`` and ``activation``.

    tmf622:read    GET / HEAD on TMF622 resources, and its hub (register, read, remove)
    tmf622:write   POST, PATCH, PUT, DELETE on TMF622 resources
    admin          /admin/* (deliveries, reference data) and operator-only actions
    activation     an activation platform's answers at /activation/callback/{monitor}

What a partner client gets by default is declared by each API (``ApiDecl.partner_access``):
catalogs to read, ordering, qualification and parties to read and write, the service,
resource and activation APIs nothing (operator-only unless an operator grants them).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

ADMIN = "admin"
ACTIVATION = "activation"
READ_METHODS = frozenset({"GET", "HEAD"})
#: names ``tmfstack client add --scope`` accepts for whole sets
PRESETS = ("operator", "partner")


@dataclass(frozen=True)
class ScopeTable:
    #: API key (e.g. "tmf622") -> what a partner gets by default: "none", "read" or "write"
    apis: dict[str, str]

    @classmethod
    def of(cls, apis: Iterable[tuple[str, str]]) -> ScopeTable:
        """From (API key, partner access) pairs, e.g. ``[(a.key, a.partner_access) for a in engine.apis.values()]``."""
        return cls(dict(apis))

    @staticmethod
    def needed(key: str, method: str) -> str:
        return f"{key}:read" if method in READ_METHODS else f"{key}:write"

    @property
    def operator(self) -> frozenset[str]:
        """Every scope: what an operator client gets."""
        return frozenset({f"{k}:{a}" for k in self.apis for a in ("read", "write")} | {ADMIN, ACTIVATION})

    @property
    def partner(self) -> frozenset[str]:
        granted = {"read": ("read",), "write": ("read", "write")}
        return frozenset(f"{k}:{a}" for k, level in self.apis.items() for a in granted.get(level, ()))

    def expand(self, names: Iterable[str]) -> frozenset[str]:
        """Scope names and presets (``operator``, ``partner``) as scopes; ValueError for an unknown one."""
        out: set[str] = set()
        for raw in names:
            for name in raw.replace(",", " ").split():
                if name in PRESETS:
                    out |= self.operator if name == "operator" else self.partner
                elif name in self.operator:
                    out.add(name)
                else:
                    raise ValueError(f"unknown scope {name!r}; scopes are {self.describe()} or a preset {PRESETS}")
        return frozenset(out)

    def describe(self) -> str:
        return "tmfNNN:read, tmfNNN:write (NNN in " + ", ".join(sorted(self.apis)) + "), admin, activation"
