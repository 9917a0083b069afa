import pytest

from tests.sla.conftest import ship_sla_defaults


@pytest.fixture(autouse=True)
def sla_defaults(db):
    """Routing starts SLA clocks: make sure the shipped policies exist (see tests/sla/conftest.py)."""
    ship_sla_defaults()
