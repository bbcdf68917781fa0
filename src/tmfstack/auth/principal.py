"""Who is calling: the client a valid token was issued to, its scopes and its partner party."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Principal:
    client_id: str
    scopes: frozenset[str]
    #: the partner the client acts for; None: an operator client (sees everything)
    party: str | None = None
    #: epoch seconds the token expires (inf: auth off)
    expires: float = float("inf")
    #: every scope allowed (auth off: the local operator)
    unrestricted: bool = False

    def allows(self, scope: str) -> bool:
        return self.unrestricted or scope in self.scopes


#: the caller when authentication is off (``--no-auth``): everything, as an operator
LOCAL_OPERATOR = Principal("local", frozenset(), None, unrestricted=True)
