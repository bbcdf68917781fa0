"""TMF640 Service Activation and Configuration v4 (``TMF640-ServiceActivation-v4.0.0.swagger.json``).

``service`` is an activation request: the configuration and ``state`` a service should have
on the network. Creating one, or changing its ``state``, characteristics, features or
supporting resources, is a request; each request gets a ``monitor`` (``inProgress`` →
``completed`` | ``inError``, with the adapter's ``response``). POST answers 202 with the
monitor while the request is in progress (``Location`` is the monitor), 201 with the
service when the adapter answered at once. When a request completes, the service records
it (``hasStarted``, ``isServiceEnabled``, ``startDate``/``endDate``) and the service orders
named in its ``serviceOrderItem`` are woken. Adapters: ``adapters.py``.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import httpx
import orjson

from ...clock import new_id, now_iso
from ...engine import access
from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.lifecycle import StateMachine
from ...engine.ownership import OwnedByOrder
from ...engine.service import ResourceService
from ...engine.tasks import IoTaskDecl
from ...engine.unit import Unit
from ...errors import ConcurrentUpdate, NotFound, Unprocessable
from ...net.outbound import fetch, guarded_client
from ...tmf import Doc, member
from ..inventory.tmf638 import SERVICE_LIFECYCLE
from .adapters import ActivationAdapter, HttpAdapter, Outcome, Simulator
from .callbacks import callback_url

if TYPE_CHECKING:
    from ...engine.core import Engine
    from ...engine.tasks import Task

log = logging.getLogger("tmfstack.activation")
KEY = "tmf640"  #: this API, as domain code names it (engine.resource)
QUEUE = "activation"
#: the queue woken with the requesting service order's id when a request ends (``interface.py``)
SETTLED_QUEUE = "serviceOrder"
SERVICE_INVENTORY = "tmf638"
#: monitors of one service read to find its latest (one per request: a handful)
_MONITORS_READ = 1000
MONITOR = StateMachine(
    "state", {"inProgress": {"completed", "inError"}, "completed": set(), "inError": set()}, initial="inProgress"
)
#: attributes whose change is a new request to the network
REQUESTED = ("state", "serviceCharacteristic", "feature", "supportingResource", "place")
_HTTP_ATTEMPTS = 5
_ANSWER = 64 << 10  #: bytes of an activation endpoint's answer read (the rest is dropped)
_JSON = [{"name": "Content-Type", "value": "application/json"}]


def _make_adapter(engine: Engine) -> ActivationAdapter:
    url = engine.domain.activation_url
    return HttpAdapter(url) if url else Simulator.from_config(dict(engine.domain.simulator))


def adapter(engine: Engine) -> ActivationAdapter:
    """The engine's one adapter (the simulator keeps its state, the HTTP adapter its client)."""
    return engine.shared(_make_adapter)


def _monitors(engine: Engine) -> ResourceService:
    return engine.resource(KEY, "monitor")


def _services(engine: Engine) -> ResourceService:
    return engine.resource(KEY, "service")


async def latest_monitor(engine: Engine, service_href: str, unit: Unit | None = None) -> Doc | None:
    """The monitor of a service's latest request (monitor ids are time-ordered)."""
    found = await _monitors(engine).find({"sourceHref": service_href}, unit, limit=_MONITORS_READ)
    return max(found, key=lambda m: m["id"]) if found else None


def _response(outcome: Outcome) -> Doc:
    body = orjson.dumps({"message": outcome.message}).decode()
    return {"statusCode": str(outcome.status_code), "body": body, "header": _JSON}


def _applied(service: Doc, outcome: Outcome) -> None:
    if not outcome.ok:
        return
    state = service.get("state")
    service["hasStarted"] = state in ("active", "inactive", "terminated")
    service["isServiceEnabled"] = state == "active"
    if state == "active":
        service.setdefault("startDate", now_iso())
    if state == "terminated":
        service["endDate"] = now_iso()


async def _request(svc: ResourceService, unit: Unit, service: Doc, *, first: bool = False) -> Outcome | None:
    """Open a monitor for the request ``service`` states; the outcome if the adapter knows it now.

    A service's first request answered at once with success gets no monitor (POST answers 201
    with the service, which records it); any other request has one, so the latest monitor is
    always the latest request's."""
    chosen = adapter(svc.engine)
    monitor_id = new_id()
    outcome = chosen.answer_now(service, monitor_id)
    if first and outcome is not None and outcome.ok:
        return outcome
    monitor: Doc = {
        "id": monitor_id,
        "sourceHref": service["href"],
        "state": "inProgress" if outcome is None else ("completed" if outcome.ok else "inError"),
        "request": {
            "method": "POST",
            "to": chosen.name,
            "body": orjson.dumps(service).decode(),
            "header": _JSON,
        },
        "@type": "Monitor",
    }
    if outcome is not None:
        monitor["response"] = _response(outcome)
    await _monitors(svc.engine).create(monitor, keep_id=True, unit=unit)
    if outcome is None:
        await unit.schedule(QUEUE, monitor_id, time.time() + chosen.delay(service))
    return outcome


async def on_requested(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    outcome = await _request(svc, unit, doc, first=True)
    if outcome is not None:
        _applied(doc, outcome)  # before the insert: one write


async def on_changed(svc: ResourceService, unit: Unit, before: Doc, after: Doc) -> None:
    if all(before.get(k) == after.get(k) for k in REQUESTED):
        return  # a completion being recorded, not a new request
    outcome = await _request(svc, unit, after)
    if outcome is not None:  # answered at once: whoever asked is looking at it now
        await _record(svc.engine, unit, after["id"], outcome)


async def client_request(
    svc: ResourceService, unit: Unit, before: Doc | None, after: Doc | None, party: str | None
) -> None:
    """A client's request goes to the network only for a service of the TMF638 inventory that the
    client sees (the activation record the order manager opened for it has its id), and only as
    a move the TMF638 service state machine allows from the inventory's state. New services are
    ordered (TMF641); activation records are the order manager's to delete."""
    if before is None:
        raise Unprocessable(
            "a client's activation request names a service of the service inventory: PATCH "
            "service/{id} of it; a new service is ordered through TMF641",
            code="SERVICE_NOT_FOUND",
        )
    if after is None:
        raise OwnedByOrder("activation records are kept by the order manager")
    if all(before.get(k) == after.get(k) for k in REQUESTED):
        return  # nothing for the network
    inventory = svc.engine.resource(SERVICE_INVENTORY, "service")
    found = await inventory.read(before["id"], unit)
    if found is None or (inventory.isolated and not access.visible(found, party)):
        raise Unprocessable(f"service {before['id']!r} is not in the service inventory", code="SERVICE_NOT_FOUND")
    spec = (found.get("serviceSpecification") or {}).get("id")
    if (after.get("serviceSpecification") or {}).get("id") != spec:
        raise Unprocessable(f"service {before['id']!r} is of specification {spec!r}", code="INVALID_SPECIFICATION")
    SERVICE_LIFECYCLE.check(str(found.get("state")), str(after.get("state")))


async def _record(engine: Engine, unit: Unit, service_id: str, outcome: Outcome) -> Doc:
    def change(doc: Doc) -> Doc:
        _applied(doc, outcome)
        return doc

    done, _, _ = await _services(engine).update(service_id, change, unit=unit)
    return done


async def _wake_orders(unit: Unit, service: Doc) -> None:
    """Wake the service order that made the latest request (earlier ones have moved on)."""
    requesters = service.get("serviceOrderItem") or []
    if requesters and requesters[-1].get("serviceOrderId"):
        await unit.schedule(SETTLED_QUEUE, requesters[-1]["serviceOrderId"], time.time())


async def finish(engine: Engine, unit: Unit, monitor_id: str, outcome: Outcome) -> bool:
    """Record a request's outcome; False when it was already finished (a late or repeated answer)."""
    monitors = _monitors(engine)
    monitor = await monitors.read(monitor_id, unit)
    if monitor is None:
        raise NotFound(f"monitor {monitor_id!r} does not exist")
    if monitor["state"] != "inProgress":
        return False
    state = "completed" if outcome.ok else "inError"
    await monitors.update(monitor_id, lambda d: {**d, "state": state, "response": _response(outcome)}, unit=unit)
    service_id = monitor["sourceHref"].rsplit("/", 1)[-1]
    if await _services(engine).row(service_id, unit) is None:
        return True  # deleted meanwhile
    latest = await latest_monitor(engine, monitor["sourceHref"], unit)
    if latest is not None and latest["id"] != monitor_id:
        return True  # superseded by a newer request: that one's outcome will say how the service is
    service = await _record(engine, unit, service_id, outcome)
    await _wake_orders(unit, service)
    return True


async def request_again(engine: Engine, unit: Unit, service_id: str) -> None:
    """Repeat a service's request as it stands (an operator retrying a failed activation)."""
    svc = _services(engine)
    service = await svc.read(service_id, unit)
    if service is None:
        raise NotFound(f"service {service_id!r} does not exist")
    outcome = await _request(svc, unit, service)
    if outcome is not None:
        await _record(engine, unit, service_id, outcome)


async def simulated_step(engine: Engine, unit: Unit, monitor_id: str) -> None:
    monitor = await _load_monitor(engine, unit, monitor_id)
    if monitor is None:
        return
    chosen = adapter(engine)
    service = orjson.loads(monitor["request"]["body"])
    if isinstance(chosen, Simulator):
        await finish(engine, unit, monitor_id, chosen.decide(service, monitor_id))


async def _load_monitor(engine: Engine, unit: Unit, monitor_id: str) -> Doc | None:
    monitor = await _monitors(engine).read(monitor_id, unit)
    return monitor if monitor and monitor["state"] == "inProgress" else None


async def activation_step(engine: Engine, task: Task) -> None:
    """Finish an open request: the simulator decides; the HTTP adapter calls the endpoint
    (outside any transaction), then records its answer."""
    chosen = adapter(engine)
    if not isinstance(chosen, HttpAdapter):
        async with engine.unit() as unit:
            await unit.finish_task(task)
            await simulated_step(engine, unit, task.key)
        return
    monitor = await _monitors(engine).read(task.key)
    outcome: Outcome | None = None
    accepted = False
    if monitor and monitor["state"] == "inProgress" and "response" not in monitor:
        outcome, accepted = await _call(engine, chosen, monitor, task)
    async with engine.unit() as unit:
        await unit.finish_task(task)
        if outcome is not None:
            await finish(engine, unit, task.key, outcome)
        elif accepted:
            response = {"statusCode": "202", "body": "", "header": _JSON}
            # the callback may have come first: then it has the last word
            await _monitors(engine).update(
                task.key, lambda d: {**d, "response": response} if d["state"] == "inProgress" else d, unit=unit
            )


async def _call(engine: Engine, chosen: HttpAdapter, monitor: Doc, task: Task) -> tuple[Outcome | None, bool]:
    callback = await callback_url(engine, monitor["id"])
    headers = {"X-Callback-Url": callback, "X-Request-Id": monitor["id"], "Content-Type": "application/json"}
    policy = engine.settings.outbound_policy()
    body = monitor["request"]["body"].encode()
    try:
        # the guard applies to the operator's endpoint too: an internal one must be allowed by name
        async with guarded_client(policy, timeout=chosen.timeout) as client:
            answer = await fetch(
                client,
                "POST",
                chosen.url,
                content=body,
                headers=headers,
                limit=_ANSWER,
                deadline=2 * chosen.timeout,
                truncate=True,
            )
    except httpx.HTTPError as exc:
        if task.attempts >= _HTTP_ATTEMPTS:
            return Outcome(False, f"activation endpoint unreachable after {task.attempts} attempts: {exc}", 503), False
        raise  # the task runner retries with backoff
    if answer.status == 202:
        return None, True
    if answer.status >= 500 and task.attempts < _HTTP_ATTEMPTS:
        raise RuntimeError(f"activation endpoint answered {answer.status}")
    ok = answer.status in (200, 201)
    text = answer.body.decode("utf-8", "replace")[:500]
    return Outcome(ok, text or f"HTTP {answer.status}", answer.status), False


async def callback(engine: Engine, monitor_id: str, payload: Any) -> bool:
    """The external system's answer to a 202: ``{"state": ..., "message": ...}``, a monitor, or
    a TMF640 monitor/service event. Returns False for a repeated answer."""
    body = payload if isinstance(payload, dict) else {}
    event = member(body, "event")
    inner = event.get("monitor") or event.get("service") or body
    state = str(inner.get("state", "")).casefold()
    ok = state in ("completed", "active", "done", "succeeded")
    message = str(body.get("message") or inner.get("message") or state or "callback")
    for attempt in range(5):
        try:
            async with engine.unit() as unit:
                return await finish(engine, unit, monitor_id, Outcome(ok, message, 200 if ok else 500))
        except ConcurrentUpdate:  # raced with the step recording the 202: read again
            if attempt == 4:
                raise
    return False


async def accepted(svc: ResourceService, doc: Doc, unit: Unit | None) -> tuple[int, bytes | None, str | None] | None:
    """202 with the monitor while the creating request is still in progress."""
    monitor = await latest_monitor(svc.engine, doc["href"], unit)
    if monitor is not None and monitor["state"] == "inProgress":
        return 202, orjson.dumps(monitor), monitor["href"]
    return None


API = ApiDecl.build(
    "TMF640-ServiceActivation-v4.0.0.swagger.json",
    resources=[
        ResourceDecl(
            "service",
            lifecycle=SERVICE_LIFECYCLE,
            ref_paths=("serviceSpecification.id", "serviceOrderItem.serviceOrderId", "relatedParty.id"),
            before_insert=on_requested,
            on_update=on_changed,
            create_response=accepted,
            client_check=client_request,
        ),
        ResourceDecl("monitor", lifecycle=MONITOR, ref_paths=("sourceHref",)),
    ],
    tasks={QUEUE: IoTaskDecl(activation_step)},  # it calls the network outside transactions
)
