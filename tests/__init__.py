"""The project's tests (see conftest.py for the shared syntheses and moto fixtures)."""

import pytest

# Failed asserts in the shared helpers explain themselves, as in a test module. Registered here,
# before conftest.py or any test imports the helpers.
pytest.register_assert_rewrite("tests.helpers")
