"""Authentication and throttling at the HTTP edge: tokens, clients and per-client rate limits."""
