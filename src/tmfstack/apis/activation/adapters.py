"""Activation adapters: how a TMF640 activation request reaches the network.

An adapter gets each request (a TMF640 ``service`` as it should be, and its ``monitor``)
and either answers at once (``Outcome``) or returns None and finishes it later through
``finish`` in ``tmf640.py``:

- ``Simulator`` (the default): per service specification a latency and a failure rate,
  deterministic for a seed (the same request always succeeds or fails the same way).
  Zero latency answers inside the request's own transaction; otherwise the ``activation``
  task finishes it when the latency has passed.
- ``HttpAdapter``: POSTs the service to an external activation endpoint
  (``TMFSTACK_ACTIVATION_URL``), with ``X-Callback-Url``. A 200/201 answer completes the
  request; 202 leaves it in progress until the endpoint POSTs the outcome to that URL
  (``{"state": "completed" | "inError", "message": ...}``, or a TMF640 monitor).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

from ...tmf import Doc


@dataclass(frozen=True)
class Outcome:
    ok: bool
    message: str
    status_code: int = 200


@dataclass(frozen=True)
class Behaviour:
    latency: float = 0.0  #: seconds
    failure_rate: float = 0.0  #: 0..1


class ActivationAdapter(Protocol):
    #: "simulator" or "http": which task step finishes the requests it leaves open
    name: str

    def answer_now(self, service: Doc, monitor_id: str) -> Outcome | None:
        """The outcome when known without waiting, else None (finished by a task step later)."""

    def delay(self, service: Doc) -> float:
        """Seconds until the task step should look at an open request."""


@dataclass
class Simulator:
    seed: int = 0
    default: Behaviour = Behaviour()
    #: service specification id -> behaviour
    per_spec: dict[str, Behaviour] = field(default_factory=dict)
    name: str = "simulator"

    @classmethod
    def from_config(cls, config: Doc) -> Simulator:
        """``{"seed": 1, "default": {"latency": 0, "failureRate": 0}, "ss-rfs-…": {...}}``."""

        def behaviour(value: Doc) -> Behaviour:
            return Behaviour(float(value.get("latency", 0.0)), float(value.get("failureRate", 0.0)))

        specs = {k: behaviour(v) for k, v in config.items() if k not in ("seed", "default") and isinstance(v, dict)}
        return cls(int(config.get("seed", 0)), behaviour(config.get("default") or {}), specs)

    def behaviour(self, service: Doc) -> Behaviour:
        return self.per_spec.get((service.get("serviceSpecification") or {}).get("id", ""), self.default)

    def decide(self, service: Doc, monitor_id: str) -> Outcome:
        spec = (service.get("serviceSpecification") or {}).get("name") or "service"
        roll = random.Random(f"{self.seed}/{monitor_id}").random()
        if roll < self.behaviour(service).failure_rate:
            return Outcome(False, f"simulated network failure configuring {spec}", 500)
        return Outcome(True, f"{spec} configured ({service.get('state')})")

    def answer_now(self, service: Doc, monitor_id: str) -> Outcome | None:
        return self.decide(service, monitor_id) if self.behaviour(service).latency <= 0 else None

    def delay(self, service: Doc) -> float:
        return self.behaviour(service).latency


@dataclass
class HttpAdapter:
    url: str  #: the external TMF640-like endpoint that services are POSTed to
    timeout: float = 5.0
    name: str = "http"

    def answer_now(self, service: Doc, monitor_id: str) -> Outcome | None:
        return None  # always through the activation task: no network I/O inside a transaction

    def delay(self, service: Doc) -> float:
        return 0.0
