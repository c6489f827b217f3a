"""Administration through the contract, the same on every backend: agents, API tokens
(only an admin manages them) and file imports (where the backend's IMPORT capability says)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backends.base import Capability, Conflict, Forbidden, InvalidInput, NotFound, ReadOnly
from backends.models import Role
from tests.backends.conftest import BackendFactory

CRM = (
    "id,first_name,last_name,email\n"
    "ADM1,Ottavia,Zanardelli,ottavia.zanardelli@example.org\n"
    "ADM2,Ugo,Pellizzari,ugo.pellizzari@example.org\n"
    "ADM3,broken\n"
)


def test_agents_are_listed_by_name_with_their_roles(make_backend: BackendFactory) -> None:
    agents = make_backend("giulia").agents()
    assert [a.name for a in agents] == sorted(a.name for a in agents)
    roles = {a.name: a.role for a in agents}
    assert (roles["giulia"], roles["anna"], roles["admin"]) == (
        Role.OPERATOR,
        Role.SUPERVISOR,
        Role.ADMIN,
    )


def test_an_admin_creates_lists_and_revokes_tokens(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    assert Capability.TOKENS in admin.capabilities
    made = admin.create_token("desk-new", Role.OPERATOR, "newcomer")
    assert made.token.startswith("vista_") and len(made.token) > 40
    assert (made.name, made.role, made.agent, made.revoked_at) == (
        "desk-new",
        Role.OPERATOR,
        "newcomer",
        None,
    )
    listed = {t.name: t for t in admin.tokens()}
    assert listed["desk-new"] == made.info and listed["desk-new"].active
    assert all(made.token not in repr(t) for t in listed.values())  # never the secret
    assert ("newcomer", Role.OPERATOR) in {(a.name, a.role) for a in admin.agents()}
    with pytest.raises(Conflict):
        admin.create_token("desk-new", Role.ADMIN)
    with pytest.raises(InvalidInput):
        admin.create_token("no spaces", Role.OPERATOR)
    revoked = admin.revoke_token("desk-new")
    assert revoked.name == "desk-new" and revoked.revoked_at is not None and not revoked.active
    assert not {t.name: t for t in admin.tokens()}["desk-new"].active
    with pytest.raises(NotFound):
        admin.revoke_token("desk-new")
    again = admin.create_token("desk-new", Role.SUPERVISOR)  # a revoked name is free again
    assert (again.agent, again.role) == ("desk-new", Role.SUPERVISOR)


@pytest.mark.parametrize("who", ["giulia", "anna"])
def test_operators_and_supervisors_cannot_manage_tokens(
    make_backend: BackendFactory, who: str
) -> None:
    admin = make_backend("admin")
    admin.create_token("desk-kept", Role.OPERATOR, "giulia")
    backend = make_backend(who)
    before = admin.tokens()
    assert Capability.TOKENS not in backend.capabilities
    for role in (Role.ADMIN, Role.OPERATOR):
        with pytest.raises(Forbidden) as refused:
            backend.create_token(f"mine-{role.value}", role, who)
        assert isinstance(refused.value, ReadOnly) == (who == "anna")
    with pytest.raises(Forbidden):
        backend.tokens()
    with pytest.raises(Forbidden):
        backend.revoke_token("desk-kept")
    assert admin.tokens() == before


@pytest.mark.needs(Capability.IMPORT)
@pytest.mark.parametrize("who", ["admin", "giulia", "anna"])
def test_importing_a_small_csv_where_the_capability_allows_it(
    make_backend: BackendFactory, tmp_path: Path, who: str
) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text(CRM, "utf-8")
    backend = make_backend(who)
    if Capability.IMPORT not in backend.capabilities:
        before = backend.changes(-1).cursor
        with pytest.raises(Forbidden) as refused:  # ReadOnly for a supervisor
            backend.import_file(crm, source="crm")
        assert isinstance(refused.value, ReadOnly) == (who == "anna")
        assert backend.changes(-1).cursor == before
        assert backend.search_customers("Zanardelli") == ()
        assert who != "admin"
        return
    bad: list[tuple[int, str]] = []
    progress: list[tuple[int, int]] = []
    report = backend.import_file(
        crm,
        source="crm",
        on_bad=lambda *row: bad.append(row),
        progress=lambda *p: progress.append(p),
    )
    assert (report.source, report.kind, report.rows) == ("crm", "customers", 3)
    assert (report.created, report.skipped, report.customers_created) == (2, 1, 2)
    assert (
        [(b.line, b.reason) for b in report.bad_rows] == bad == [(4, "expected 4 columns, found 2")]
    )
    assert progress and progress[-1] == (crm.stat().st_size, crm.stat().st_size)
    assert [h.name for h in backend.search_customers("Zanardelli")] == ["Ottavia Zanardelli"]
    again = backend.import_file(crm, source="crm")  # idempotent: updates in place
    assert (again.created, again.unchanged, again.skipped) == (0, 2, 1)
    with pytest.raises(InvalidInput):
        backend.import_file(crm, source="no spaces")
    with pytest.raises(InvalidInput):
        backend.import_file(tmp_path / "missing.csv", source="crm")
