"""API tokens and the server's role check at their boundaries: what a token is accepted as,
and what each role may call.

Tokens do not expire: a token works until it is revoked (the server answers 401 after),
so revocation is the boundary tested here.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from backends.base import Conflict, Forbidden, InvalidInput, NotFound, ReadOnly
from backends.http.routes import ENDPOINTS
from backends.models import Agent, Role, TokenInfo
from backends.sqlite.store import Store
from backends.sqlite.tokens import PREFIX, TokenStore, token_hash
from console.server.app import _authorise


class AdminTokens(TokenStore):
    """The token store as an admin uses it: `create` answers (token, what it grants)."""

    ADMIN = Agent("admin", "Admin", Role.ADMIN)

    def create(  # type: ignore[override]
        self, name: str, role: Role | str, agent: str | None = None
    ) -> tuple[str, TokenInfo]:
        made = super().create(name, role, agent, by=self.ADMIN)
        return made.token, made.info


@pytest.fixture
def tokens(tmp_path: Path) -> AdminTokens:
    return AdminTokens(Store(tmp_path / "tokens.db", create=True))


def _plant(tokens: TokenStore, token: str, name: str = "planted") -> None:
    """A token row written directly, for tokens `create` would never make."""
    with tokens.store.write() as db:
        db.execute(
            "INSERT INTO api_tokens(name, hash, role, agent, created_at) VALUES (?,?,?,?,?)",
            (name, token_hash(token), "operator", "giulia", 0),
        )


def test_a_new_token_is_long_random_and_works_at_once(tokens: TokenStore) -> None:
    token, info = tokens.create("desk-1", "operator", "giulia")
    other, _ = tokens.create("desk-2", Role.OPERATOR, "giulia")
    # 256 random bits in URL-safe base64: 43 characters after the prefix
    assert token.startswith(PREFIX) and len(token) == len(PREFIX) + 43 and token != other
    assert (info.name, info.role, info.agent, info.active) == (
        "desk-1",
        Role.OPERATOR,
        "giulia",
        True,
    )
    assert info.revoked_at is None
    assert abs((info.created_at - datetime.now(UTC)).total_seconds()) < 60
    assert tokens.verify(token) == info
    assert token_hash(token) == hashlib.sha256(token.encode()).hexdigest()


def test_the_agent_defaults_to_the_token_name_and_is_registered(tokens: TokenStore) -> None:
    _token, info = tokens.create("marco", "supervisor")
    assert info.agent == "marco" and info.role is Role.SUPERVISOR
    # an agent that exists keeps its role whatever later tokens say
    tokens.create("marco-admin", "admin", "marco")
    with tokens.store.read() as db:
        rows = db.execute("SELECT name, role FROM agents WHERE name = 'marco'").fetchall()
    assert [tuple(r) for r in rows] == [("marco", "supervisor")]


@pytest.mark.parametrize("name", ["a", "A9", "desk_7.main@site-2", "x" * 64])
def test_good_token_names(tokens: TokenStore, name: str) -> None:
    assert tokens.create(name, "operator", "giulia")[1].name == name


@pytest.mark.parametrize("name", ["", "-desk", ".desk", "desk 7", "desk/7", "x" * 65, "désk"])
def test_bad_token_names_are_refused(tokens: TokenStore, name: str) -> None:
    with pytest.raises(InvalidInput, match="token name"):
        tokens.create(name, "operator", "giulia")
    assert tokens.list() == ()


@pytest.mark.parametrize("agent", ["-x", "a b", "x" * 65])
def test_bad_agent_names_are_refused(tokens: TokenStore, agent: str) -> None:
    with pytest.raises(InvalidInput, match="agent name"):
        tokens.create("desk", "operator", agent)
    assert tokens.list() == ()


def test_an_agent_name_is_trimmed(tokens: TokenStore) -> None:
    assert tokens.create("desk", "operator", "  sara ")[1].agent == "sara"


@pytest.mark.parametrize("role", ["root", "", "Operator", "operators"])
def test_unknown_roles_are_refused(tokens: TokenStore, role: str) -> None:
    with pytest.raises(InvalidInput, match="unknown role"):
        tokens.create("desk", role, "giulia")


def test_a_name_in_use_is_a_conflict_until_revoked(tokens: TokenStore) -> None:
    old, _ = tokens.create("desk", "operator", "giulia")
    with pytest.raises(Conflict, match="revoke it first"):
        tokens.create("desk", "admin", "giulia")
    assert tokens.verify(old) is not None  # the refused attempt changed nothing
    revoked = tokens.revoke("desk")
    assert not revoked.active and revoked.revoked_at is not None
    new, info = tokens.create("desk", "admin", "giulia")
    assert info.role is Role.ADMIN and info.active
    assert tokens.verify(old) is None and tokens.verify(new) == info
    assert [t.name for t in tokens.list()] == ["desk"]


def test_a_revoked_token_stops_working_and_stays_listed(tokens: TokenStore) -> None:
    keep, _ = tokens.create("b-desk", "operator", "giulia")
    gone, _ = tokens.create("a-desk", "operator", "luca")
    tokens.revoke("a-desk")
    assert tokens.verify(gone) is None
    assert tokens.verify(keep) is not None
    listed = tokens.list()
    assert [(t.name, t.active) for t in listed] == [("a-desk", False), ("b-desk", True)]
    with pytest.raises(NotFound, match="a-desk"):
        tokens.revoke("a-desk")  # only active tokens can be revoked
    with pytest.raises(NotFound):
        tokens.revoke("nobody")


def test_unknown_and_malformed_tokens_grant_nothing(tokens: TokenStore) -> None:
    token, _ = tokens.create("desk", "operator", "giulia")
    assert tokens.verify(token + "x") is None
    assert tokens.verify(token[len(PREFIX) :]) is None
    assert tokens.verify("") is None
    assert tokens.verify(" " + token) is None
    # a stored secret without the prefix is never accepted
    _plant(tokens, "abcdefghijklmnop")
    assert tokens.verify("abcdefghijklmnop") is None


def test_tokens_longer_than_200_characters_are_refused_unread(tokens: TokenStore) -> None:
    longest = PREFIX + "a" * (200 - len(PREFIX))
    too_long = PREFIX + "b" * (201 - len(PREFIX))
    _plant(tokens, longest, "longest")
    _plant(tokens, too_long, "too-long")
    assert tokens.verify(longest) is not None
    assert tokens.verify(too_long) is None


def _grant(role: Role) -> TokenInfo:
    return TokenInfo("t", role, "giulia", datetime(2026, 1, 1, tzinfo=UTC))


def test_each_role_reaches_exactly_its_endpoints() -> None:
    admin_only = [ep for ep in ENDPOINTS if ep.roles == frozenset({Role.ADMIN})]
    assert admin_only, "token management is for admins"
    for ep in ENDPOINTS:
        # admins may call everything
        _authorise(ep, _grant(Role.ADMIN), read_only_client=False)
        if ep in admin_only:
            with pytest.raises(Forbidden, match="not allowed for operator tokens"):
                _authorise(ep, _grant(Role.OPERATOR), read_only_client=False)
            # a supervisor is refused too (as read-only first, if the endpoint writes)
            with pytest.raises(Forbidden, match="read-only" if ep.write else "supervisor tokens"):
                _authorise(ep, _grant(Role.SUPERVISOR), read_only_client=False)
        elif ep.write:
            _authorise(ep, _grant(Role.OPERATOR), read_only_client=False)
            with pytest.raises(ReadOnly, match="supervisor token"):
                _authorise(ep, _grant(Role.SUPERVISOR), read_only_client=False)
        else:
            _authorise(ep, _grant(Role.OPERATOR), read_only_client=False)
            _authorise(ep, _grant(Role.SUPERVISOR), read_only_client=False)


def test_a_read_only_client_narrows_every_role_to_reads() -> None:
    for ep in ENDPOINTS:
        for role in (Role.OPERATOR, Role.ADMIN):
            if ep.write:
                with pytest.raises(ReadOnly, match="read-only"):
                    _authorise(ep, _grant(role), read_only_client=True)
            elif role in ep.roles:
                _authorise(ep, _grant(role), read_only_client=True)
