"""Product order management (the TM Forum architecture's COM): validates product orders
(``qualification.interface``), drives them through the TMF622 state machine, fulfils their
items through a ``Fulfiller`` seam, and rolls item outcomes up to the order.

Modules: ``steps`` (the order's durable task handler), ``cancel`` (cancelProductOrder),
``tasks`` (both handlers by queue), ``fulfil`` (the seam and the direct TMF637 fulfiller),
``decompose`` (service orders along the catalog chain), ``pricing`` and ``submitted`` (prices
against the catalog). The catalog rules they share are in
``catalog/rules.py``, ``catalog/characteristics.py`` and ``catalog/view.py``.
"""
