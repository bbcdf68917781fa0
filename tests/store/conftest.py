"""Every test of this folder runs on each backend (``store_backends.py``)."""

from tests.store.store_backends import anyio_backend_fixture, store_fixture, store_url_fixture

__all__ = ["anyio_backend_fixture", "store_fixture", "store_url_fixture"]
