"""State machines as data: a table from each state to the states it may move to.

Values are matched case- and space-insensitively and stored in the table's own
spelling, so ``"in DESIGN"`` is accepted and stored as ``"In design"``.

    CATALOG = StateMachine("lifecycleStatus", {"In design": {"In test"}, "In test": set()})
    CATALOG.canonical(" in design ")        -> "In design"
    CATALOG.check("In design", "In test")    # ok; a refused move raises InvalidTransition
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import BadRequest, InvalidTransition
from ..tmf import fold


@dataclass(frozen=True)
class StateMachine:
    attribute: str
    transitions: Mapping[str, frozenset[str]]
    initial: str | None = None
    #: states a client may create a resource in (default: all); catalog imports need any
    creatable: frozenset[str] | None = None
    _by_fold: dict[str, str] = field(init=False, repr=False, compare=False)

    def __init__(
        self,
        attribute: str,
        transitions: Mapping[str, Iterable[str]],
        initial: str | None = None,
        creatable: Iterable[str] | None = None,
    ) -> None:
        table = {state: frozenset(nexts) for state, nexts in transitions.items()}
        unknown = {n for nexts in table.values() for n in nexts} - table.keys()
        if unknown:
            raise ValueError(f"transitions to undeclared states: {sorted(unknown)}")
        object.__setattr__(self, "attribute", attribute)
        object.__setattr__(self, "transitions", table)
        object.__setattr__(self, "initial", initial)
        object.__setattr__(self, "creatable", frozenset(creatable) if creatable else None)
        object.__setattr__(self, "_by_fold", {fold(s): s for s in table})

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.transitions)

    def canonical(self, value: object) -> str:
        if isinstance(value, str):
            found = self._by_fold.get(fold(value))
            if found is not None:
                return found
        allowed = ", ".join(repr(s) for s in self.transitions)
        raise BadRequest(
            f"{self.attribute} {value!r} is not a known value; expected one of {allowed}",
            code="INVALID_VALUE",
            reason=f"Invalid {self.attribute}",
        )

    def can(self, old: str, new: str) -> bool:
        return old == new or new in self.transitions.get(old, frozenset())

    def check(self, old: str, new: str) -> None:
        if not self.can(old, new):
            allowed = sorted(self.transitions.get(old, ()))
            hint = f"allowed from {old!r}: {', '.join(map(repr, allowed))}" if allowed else f"{old!r} is final"
            raise InvalidTransition(f"{self.attribute} cannot change from {old!r} to {new!r} ({hint})")

    def check_create(self, value: str) -> None:
        if self.creatable is not None and value not in self.creatable:
            raise InvalidTransition(
                f"a new resource cannot start with {self.attribute} {value!r}; "
                f"allowed: {', '.join(sorted(self.creatable))}"
            )
