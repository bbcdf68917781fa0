"""TMF622 state machines, from ``LifeCycle_ProductOrder.png`` / ``LifeCycle_ProductOrderItem.png``::

    acknowledged ──► inProgress ──► completed | failed | partial (order only)
         │  ╲           ▲  │  ╲
         │   ╲          │  ▼   ► held ──► cancelled
         ▼    ► pending ◄──┘        │
      rejected     │  ╲             ▼
                   ▼   ► assessingCancellation ──► pendingCancellation ──► cancelled
               cancelled      (denied: back to where it came from)

Clients may move an order only between inProgress, pending and held (an operator
holding or releasing it); every other change of ``state`` is the order manager's.
"""

from __future__ import annotations

from ...engine.lifecycle import StateMachine
from ...errors import InvalidTransition

_ORDER = {
    "acknowledged": {"inProgress", "pending", "rejected", "assessingCancellation"},
    "inProgress": {"pending", "held", "completed", "failed", "partial", "assessingCancellation"},
    "pending": {"inProgress", "cancelled", "assessingCancellation"},
    "held": {"inProgress", "cancelled", "assessingCancellation"},
    "assessingCancellation": {"pendingCancellation", "acknowledged", "inProgress", "pending", "held"},
    "pendingCancellation": {"cancelled"},
    "completed": set(),
    "failed": set(),
    "partial": set(),
    "cancelled": set(),
    "rejected": set(),
}

ORDER = StateMachine("state", _ORDER, initial="acknowledged", creatable={"acknowledged"})
ITEM = StateMachine(
    "state",
    {k: {n for n in v if n != "partial"} for k, v in _ORDER.items() if k != "partial"},
    initial="acknowledged",
)
#: TaskStateType of cancelProductOrder (622v4); unlike ``tmf.task_moves``, acknowledged cannot move
#: straight to done: a cancellation is done only through inProgress
CANCEL = StateMachine(
    "state",
    {
        "acknowledged": {"inProgress", "terminatedWithError"},
        "inProgress": {"done", "terminatedWithError"},
        "done": set(),
        "terminatedWithError": set(),
    },
    initial="acknowledged",
    creatable={"acknowledged"},
)

TERMINAL = frozenset({"completed", "failed", "partial", "cancelled", "rejected"})
ITEM_TERMINAL = TERMINAL - {"partial"}
#: moves a client may request by PATCH (an operator holding or releasing an order)
CLIENT_MOVES = frozenset(
    {("inProgress", "held"), ("held", "inProgress"), ("inProgress", "pending"), ("pending", "inProgress")}
)


def check_client_move(old: str, new: str) -> None:
    if old != new and (old, new) not in CLIENT_MOVES:
        allowed = sorted(n for o, n in CLIENT_MOVES if o == old)
        hint = f"a client may move it to {', '.join(allowed)}" if allowed else "only the order manager moves it now"
        raise InvalidTransition(f"state cannot be changed from {old!r} to {new!r} by a client ({hint})")


def roll_up(item_states: list[str]) -> str | None:
    """The order state its items imply once all are terminal, else None.

    all completed → completed; all failed (or rejected) → failed; all cancelled →
    cancelled; any mix of terminal states → partial.
    """
    if not item_states or any(s not in ITEM_TERMINAL for s in item_states):
        return None
    kinds = {"failed" if s == "rejected" else s for s in item_states}
    return next(iter(kinds)) if len(kinds) == 1 else "partial"
