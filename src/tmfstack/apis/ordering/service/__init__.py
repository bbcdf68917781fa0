"""Service order management (TMF641 down to TMF652 resources and TMF640 activations).

``steps`` (the durable task handler: accept, run items, roll up), ``add``, ``change``
(modify, delete), ``resources`` (the item's resource orders), ``activate`` (TMF640
requests), ``cancel`` (held released, cancelServiceOrder), ``common``.
"""
