"""Contract: rejecting a suggestion says the two customers are different people."""

from __future__ import annotations

import pytest

from backends.base import Backend, Capability

pytestmark = pytest.mark.needs(Capability.IDENTITY)


def test_a_rejected_pair_does_not_come_back_through_other_records(backend: Backend) -> None:
    suggestions = backend.identity_suggestions(200)
    assert suggestions, "the demo has possible duplicates to review"
    first = suggestions[0]
    pair = {first.customer_a, first.customer_b}
    backend.reject_suggestion(first.id)
    remaining = backend.identity_suggestions(200)
    assert first.id not in [s.id for s in remaining]
    assert not [s for s in remaining if {s.customer_a, s.customer_b} == pair]
    assert backend.get_customer(first.customer_a).id != backend.get_customer(first.customer_b).id
