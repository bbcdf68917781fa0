"""Resource order management (TMF652 against the TMF685 pools): ``steps`` serves an order,
``reserve`` records what it took, ``cancel`` gives it back."""
