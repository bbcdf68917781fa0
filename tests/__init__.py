"""The test suite, a package: helpers are imported as ``tests.support.<module>``."""

import sys

if "pytest" in sys.modules:  # under pytest (bench imports tests.support.servers without it)
    import pytest

    # the helpers' asserts are rewritten like the tests' own, for failures that show their values
    pytest.register_assert_rewrite("tests.support")
