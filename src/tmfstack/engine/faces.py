"""Each served version's rendition ("face") of a stored document, kept in its row (``store/faces.py``).

A read through another version (v5) of a stored (v4) document would parse the stored bytes, walk
them along the served plan (``shape.py``) and serialise them again: ~30 µs a read, a third of a
read's whole cost. The rendition only changes when the document does, so it is made when the
document is written, in the same statement (``ResourceService.insert`` / ``update``), and a read
through the served version is bytes out of the same row, as a read through the stored version is.
A client's write pays for it (one render, ~15 µs for a 2 KB offering): reads outnumber writes.
The order manager's own writes do not (``Faces.shown``): such a document is rendered when read.
One face is stored per document, the first served version of its kind (v5 today); another version
of the same kind (a v3) would be rendered on the fly, with the list cache, until it gets columns
of its own.

A face is redone for every document of its kind at start-up when what it depends on changed:
the marker is a digest of the served contract, the mapping's sources (the declaring module's
package, ``apis/generations.py``, ``engine/shape.py``, ``engine/served.py``) and the public URL
(the ``href``). A face is never served stale: it names the document version it shows, and a read
takes it only for the current one; any other document is rendered on the fly (written by an older
release, written by the server's own steps, or inserted straight into the store).
"""

from __future__ import annotations

import hashlib
import logging
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import orjson

from ..store.base import Store
from ..store.faces import Shown

if TYPE_CHECKING:
    from .served import VersionService

log = logging.getLogger("tmfstack.engine")

_ENGINE = Path(__file__).parent
_SOURCES = (_ENGINE / "shape.py", _ENGINE / "served.py", _ENGINE.parent / "apis" / "generations.py")


def digest(svc: VersionService, public_url: str) -> str:
    """What ``svc``'s renditions depend on, as a short digest (the face's marker)."""
    h = hashlib.sha256(public_url.encode())
    h.update(orjson.dumps(svc.served_api.contract.definitions, option=orjson.OPT_SORT_KEYS))
    package = Path(svc.served_api.origin).parent if svc.served_api.origin else None
    sources = sorted(package.glob("*.py")) if package else []
    for source in (*_SOURCES, *sources):
        h.update(source.name.encode())
        h.update(source.read_bytes())
    return h.hexdigest()[:32]


#: a larger document is rendered when read: a stored rendition would double its row, and rendering
#: many of the largest bodies at once while they are written doubled a write's memory peak
LARGEST = 64 << 10


class Faces:
    """kind -> the served versions that show it; the first one's rendition is stored."""

    def __init__(self) -> None:
        self.of: dict[str, list[VersionService]] = {}

    def add(self, svc: VersionService) -> None:
        self.of.setdefault(svc.kind, []).append(svc)

    def stored(self, svc: VersionService) -> bool:
        """Whether ``svc``'s renditions are stored (the first served version of its kind)."""
        return self.of.get(svc.kind, [None])[0] is svc

    def shown(self, kind: str, raw: bytes, by: object = None, client: bool = True) -> Shown:
        """The face of a document about to be written (``raw``) for its row; the writing service
        (``by``) keeps it for the write's answer. None for a write of the server's own (``client``
        false) through another version: an order manager's step writes many versions of a document
        that no one reads in between, and rendering each cost the fulfilment chain 15 %; such a
        document is rendered when read, until its next client write or start-up."""
        served = self.of.get(kind)
        if not served or len(raw) > LARGEST:
            return None
        svc = served[0]
        if not client and svc is not by:
            return None
        rendition = svc.rendition(raw)
        if svc is by:
            svc.written.put(raw, rendition)
        return svc.face, rendition

    async def refresh(self, store: Store, public_url: str) -> None:
        """Redo a kind's faces where the marker differs from what they depend on now."""
        for kind, served in self.of.items():
            svc = served[0]
            marker = (f"faces:{kind}", f"{svc.face}={digest(svc, public_url)}")
            if await store.meta(marker[0]) != marker[1]:
                count = await store.refresh_faces(kind, partial(self.shown, kind), marker)
                if count:
                    log.info("rendered %d %s documents as %s", count, kind, svc.face)
