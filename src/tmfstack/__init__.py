"""tmfstack: TM Forum Open APIs on one generic engine."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__", "create_app"]


def __getattr__(name: str) -> object:
    if name == "create_app":
        from .web.app import create_app

        return create_app
    raise AttributeError(name)
