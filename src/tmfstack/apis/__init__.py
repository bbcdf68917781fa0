"""The TM Forum APIs tmfstack serves, one module per API, grouped by family.

Adding an API: write its declaration module and list it in ``all_apis`` below.
"""

from __future__ import annotations

from ..engine.declaration import ApiDecl


def all_apis() -> list[ApiDecl]:
    from .activation import tmf640
    from .catalog import tmf620, tmf633, tmf634
    from .inventory import tmf637, tmf638, tmf639, tmf685
    from .ordering import tmf622, tmf641, tmf652
    from .party import tmf632, tmf669
    from .qualification import tmf645, tmf679

    return [
        tmf620.API,
        tmf622.API,
        tmf633.API,
        tmf634.API,
        tmf637.API,
        tmf638.API,
        tmf639.API,
        tmf640.API,
        tmf641.API,
        tmf652.API,
        tmf685.API,
        tmf632.API,
        tmf669.API,
        tmf679.API,
        tmf645.API,
    ]
