"""Outbound network calls: the one guard every call the server makes goes through (see outbound.py)."""

from .outbound import (
    AddressPolicy,
    DeadlineExceeded,
    DestinationNotAllowed,
    Fetched,
    TooLarge,
    check_destination,
    fetch,
    guarded_client,
    read_capped,
)

__all__ = [
    "AddressPolicy",
    "DeadlineExceeded",
    "DestinationNotAllowed",
    "Fetched",
    "TooLarge",
    "check_destination",
    "fetch",
    "guarded_client",
    "read_capped",
]
