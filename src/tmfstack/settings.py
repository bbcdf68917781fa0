"""Runtime settings, from command-line options or ``TMFSTACK_*`` environment variables."""

from __future__ import annotations

import json
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
    #: activation: an external endpoint (HTTP adapter), else the built-in simulator configured
    #: by a JSON object or @file: {"seed": 1, "default": {"latency": 0, "failureRate": 0}, "<spec id>": {...}}
    activation_url: str = field(default_factory=lambda: _env("ACTIVATION_URL", ""))
    simulator: str = field(default_factory=lambda: _env("SIMULATOR", "{}"))
    #: what a failed activation does to its order: "fail" (compensate) or "hold" (wait for an operator)
    activation_failure: str = field(default_factory=lambda: _env("ACTIVATION_FAILURE", "fail"))
    #: how long a qualification answer (TMF679, TMF645) holds, in seconds (its expirationDate)
    qualification_validity: float = field(default_factory=lambda: float(_env("QUALIFICATION_VALIDITY", "86400")))

    def simulator_config(self) -> dict[str, object]:
        text = self.simulator.strip()
        if text.startswith("@"):
            text = Path(text[1:]).read_text(encoding="utf-8")
        value = json.loads(text or "{}")
        if not isinstance(value, dict):
            raise ValueError("TMFSTACK_SIMULATOR must be a JSON object")
        if self.activation_failure not in ("fail", "hold"):
            raise ValueError("TMFSTACK_ACTIVATION_FAILURE must be fail or hold")
        return value
