"""TMF630 REST guidelines: query parsing and evaluation, shared by list queries and hub filters."""

from .evaluate import leaves, matches, project, sort_key
from .query import Condition, Query, parse_filters, parse_query

__all__ = ["Condition", "Query", "leaves", "matches", "parse_filters", "parse_query", "project", "sort_key"]
