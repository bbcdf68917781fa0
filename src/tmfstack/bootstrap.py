"""Composition root: builds the engine from settings, with every declared API."""

from __future__ import annotations

from .engine.core import Engine
from .settings import Settings


def build_engine(settings: Settings) -> Engine:
    from .apis import all_apis
    from .store.base import open_store

    return Engine(
        open_store(settings.database_url),
        all_apis(),
        public_url=settings.public_url or "http://localhost:8080",
        default_limit=settings.default_limit,
        max_limit=settings.max_limit,
        export_dir=settings.export_dir,
        settings=settings,  # the engine checks and keeps the domain modules' part (``engine.domain``)
    )
