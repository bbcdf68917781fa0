"""Renditions ("faces") of stored documents: what a served version (``engine/faces.py``) shows of
a document, stored in the document's own row, so that a read through that version is bytes out of
the same row, as a read through the stored version is.

Three columns: ``shown`` (the rendition), ``shown_face`` (whose: ``tmf620.v5/productOffering``)
and ``shown_version`` (the document version it was rendered from). A read takes ``shown`` only
when it is the face asked for and of the row's current version, decided in SQL: a row written by
a release that does not know the columns, or not yet redone after a mapping changed, never answers
a stale face; the engine renders that document on the fly. Writes set the columns in the statement
that writes the document. One face is stored per row (a kind's first served version: v5 today);
a second served version of the same kind would be rendered on the fly or get its own columns.
"""

from __future__ import annotations

import re

#: a face's name is the engine's (``tmf620.v5/productOffering``), inlined in page statements
FACE_NAME = re.compile(r"^[A-Za-z0-9_.\-/]{1,100}$")

#: what a write stores: (face, rendition), or None for a kind no other version shows
Shown = tuple[str, bytes] | None


def shown_column(face: str, alias: str = "") -> str:
    """The select-list expression of ``face`` of a row when it is current, else NULL."""
    if not FACE_NAME.match(face):
        raise ValueError(f"not a face name: {face!r}")
    return f"CASE WHEN {alias}shown_face = '{face}' AND {alias}shown_version = {alias}version THEN {alias}shown END"
