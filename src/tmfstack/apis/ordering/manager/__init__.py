"""The order manager (the TM Forum architecture's COM): validates product orders against the
catalog and the inventory, drives them through the TMF622 state machine, fulfils their items
through a ``Fulfiller`` seam, and rolls item outcomes up to the order.

Modules: ``view`` (what the rules read), ``validate`` and ``pricing`` (pure rules),
``fulfil`` (the seam and the direct TMF637 fulfiller), ``steps`` (the durable task handlers).
"""
