"""Runtime settings, from command-line options or ``TMFSTACK_*`` environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path


def _env(name: str, default: str) -> str:
    return os.environ.get(f"TMFSTACK_{name}", default)


@dataclass
class Settings:
    database_url: str = field(default_factory=lambda: _env("DATABASE_URL", "sqlite:///tmfstack.db"))
    #: base of every href; defaults to http://<host>:<port> of ``serve``
    public_url: str = field(default_factory=lambda: _env("PUBLIC_URL", ""))
    default_limit: int = field(default_factory=lambda: int(_env("DEFAULT_LIMIT", "100")))
    max_limit: int = field(default_factory=lambda: int(_env("MAX_LIMIT", "1000")))
    export_dir: Path = field(default_factory=lambda: Path(_env("EXPORT_DIR", "exports")))
    #: event delivery: attempts before a delivery is parked as dead, first retry delay (s)
    max_attempts: int = field(default_factory=lambda: int(_env("MAX_ATTEMPTS", "10")))
    retry_base: float = field(default_factory=lambda: float(_env("RETRY_BASE", "1.0")))
    retry_max: float = field(default_factory=lambda: float(_env("RETRY_MAX", "300")))
    dispatcher: bool = field(default_factory=lambda: _env("DISPATCHER", "1") != "0")
    #: refuse invalid product orders synchronously (422) instead of accepting then rejecting them
    strict_orders: bool = field(default_factory=lambda: _env("STRICT_ORDERS", "0") == "1")
    #: run the orchestration task runner (order manager) in this process
    workers: bool = field(default_factory=lambda: _env("WORKERS", "1") != "0")
