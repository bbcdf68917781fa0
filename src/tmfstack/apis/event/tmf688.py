"""TMF688 Event Management v4 (``TMF688-Event-v4.0.0.swagger.json``).

``topic`` (create, read, list, delete) and two sub-resources under a topic:

* ``event`` (``/topic/{topicId}/event``: publish, read, list): an event published to a topic is
  stored with its ``id``, ``href`` (the nested path) and ``eventTime`` (the time it was received,
  unless the publisher gave one), and delivered, as the stored document, to the topic's hubs whose
  query it matches, through the outbox like every other event (``engine/nested.publish``).
* ``hub`` (``/topic/{topicId}/hub``: subscribe, read, list, remove): the topic's own subscriptions.
  The engine serves a parent's hub from the contract (as it serves every API's ``/hub``); it is
  named here for the reader, not declared: it has no document of its own to declare.

The API's ``/hub`` hears of topics (``TopicCreateEvent``…) and of published events
(``EventCreateEvent``, the standard event of an entity the spec defines none for).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ...clock import now_iso
from ...engine.declaration import ApiDecl, ResourceDecl
from ...engine.nested import ChildService, publish
from ...tmf import Doc

if TYPE_CHECKING:
    from ...engine.service import ResourceService
    from ...engine.unit import Unit


def _received(doc: Doc, before: Doc | None) -> None:
    if before is None and not doc.get("eventTime"):
        doc["eventTime"] = now_iso()


async def _to_topic_hubs(svc: ResourceService, unit: Unit, doc: Doc) -> None:
    assert isinstance(svc, ChildService)  # a sub-resource: the engine serves it as one
    event_type = doc.get("eventType")
    await publish(svc, unit, event_type if isinstance(event_type, str) and event_type else "Event", doc)


API = ApiDecl.build(
    "TMF688-Event-v4.0.0.swagger.json",
    resources=[
        ResourceDecl("topic"),
        ResourceDecl(
            "event",
            parent="topic",
            rules=[_received],
            on_create=_to_topic_hubs,
            ref_paths=("eventType",),
        ),
    ],
)
