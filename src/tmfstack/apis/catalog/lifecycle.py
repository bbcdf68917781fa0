"""Catalog entity lifecycle (TMF620/633/634 ``lifecycleStatus``), shared by the catalog APIs.

The spec types ``lifecycleStatus`` as a free string; the values and order below are
the TMF620 user guide's, as drawn in every catalog lifecycle::

    In study ──► In design ──► In test ──► Active ──► Launched ──► Retired ──► Obsolete
       │             │            │  ▲        └──────────────────────►┘
       └──────► Rejected ◄────────┘  └── back to In design when a test fails

A new entity starts "In design" unless it says otherwise (imports carry any state).
"""

from __future__ import annotations

from ...engine.lifecycle import StateMachine

CATALOG_LIFECYCLE = StateMachine(
    "lifecycleStatus",
    {
        "In study": {"In design", "Rejected"},
        "In design": {"In test", "Rejected"},
        "In test": {"Active", "Launched", "In design", "Rejected"},
        "Active": {"Launched", "Retired"},
        "Launched": {"Retired"},
        "Retired": {"Obsolete"},
        "Obsolete": set(),
        "Rejected": set(),
    },
    initial="In design",
)

#: JobStateType of importJob / exportJob
JOB_LIFECYCLE = StateMachine(
    "status",
    {"Not Started": {"Running", "Failed"}, "Running": {"Succeeded", "Failed"}, "Succeeded": set(), "Failed": set()},
    initial="Not Started",
    creatable={"Not Started"},
)
