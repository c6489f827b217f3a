"""Contract: the match model is shown (levels with m, u, weight), trained by a writer only,
and suggestions page on with a cursor, most likely first."""

from __future__ import annotations

import pytest

from backends.base import Backend, Capability, InvalidInput, ReadOnly
from tests.backends.conftest import BackendFactory

pytestmark = pytest.mark.needs(Capability.IDENTITY)


def test_suggestions_page_with_a_cursor_most_likely_first(backend: Backend) -> None:
    everything = backend.identity_suggestions(500)
    assert len(everything) >= 3, "the demo has possible duplicates to review"
    scores = [s.score for s in everything]
    assert scores == sorted(scores, reverse=True)
    pages, after = [], ""
    while True:
        page = backend.identity_suggestions(2, after)
        if not page:
            break
        pages += page
        after = page[-1].cursor
    assert [s.id for s in pages] == [s.id for s in everything]
    pairs = [frozenset((s.customer_a, s.customer_b)) for s in pages]
    assert len(pairs) == len(set(pairs))  # one per pair of customers, across pages too


def test_a_malformed_cursor_is_invalid_input(backend: Backend) -> None:
    with pytest.raises(InvalidInput):
        backend.identity_suggestions(10, "not-a-cursor")


def test_the_model_shows_each_level_with_its_weight(backend: Backend) -> None:
    model = backend.identity_model()
    assert model.version == 0  # a demo store of 300 people is not trained on import
    by = {(lv.comparison, lv.level): lv for lv in model.levels}
    assert by[("email", "exact")].weight > 0 > by[("email", "different")].weight
    assert by[("first_name", "exact")].m > by[("first_name", "exact")].u
    assert 0 < model.prior < 1 and model.link_probability > model.suggest_probability
    assert "household" in model.guards


def test_training_is_a_write(make_backend: BackendFactory) -> None:
    with pytest.raises(ReadOnly):
        make_backend(read_only=True).train_identity_model()
    trained = make_backend().train_identity_model()
    assert trained.version == 1 and trained.records > 0
    assert make_backend().identity_model().version == 1


@pytest.mark.needs(Capability.AUDIT)
def test_training_is_in_the_audit_trail(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    before = {e.seq for e in admin.audit_log(limit=500).entries if e.action == "train"}
    make_backend("admin").train_identity_model()
    entries = [e for e in admin.audit_log(limit=500).entries if e.action == "train"]
    new = [e for e in entries if e.seq not in before]
    assert len(new) == 1
    assert new[0].object_type == "identity-model" and new[0].object_id == "1"
    assert new[0].changes["version"] == (0, 1) and new[0].agent == "admin"
    assert admin.verify_audit().ok
