"""Every model crossing the backend boundary is a frozen, slotted `msgspec.Struct`: what a
caller can rely on, whichever way `backends.models` builds them."""

from __future__ import annotations

import copy
import inspect
import pickle
from datetime import UTC, datetime

import msgspec
import pytest

from backends import models
from backends.models import Agent, Customer, DurationKpi, KpiBucket, KpiReport, Presence, Role

MODELS = [
    cls
    for cls in vars(models).values()
    if isinstance(cls, type)
    and issubclass(cls, msgspec.Struct)
    and cls.__module__ == models.__name__
    and not cls.__name__.startswith("_")
]
AT = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def test_every_model_is_a_frozen_slotted_struct() -> None:
    assert len(MODELS) >= 36
    for cls in MODELS:
        assert cls.__struct_config__.frozen, cls
        assert "__slots__" in vars(cls) and "__dict__" not in vars(cls), cls
        names = tuple(f.name for f in msgspec.structs.fields(cls))
        assert cls.__match_args__ == names, cls  # type: ignore[attr-defined]
        assert list(inspect.signature(cls).parameters) == list(names), cls
        assert cls.__doc__ and not cls.__doc__.startswith(f"{cls.__name__}("), cls


def test_fields_cannot_be_assigned_deleted_or_added() -> None:
    agent = Agent("ada", "Ada", Role.OPERATOR)
    with pytest.raises(AttributeError, match="immutable"):
        agent.name = "bob"  # type: ignore[misc]
    with pytest.raises(AttributeError, match="immutable"):
        del agent.name  # type: ignore[misc]
    with pytest.raises(AttributeError):
        agent.extra = 1  # type: ignore[attr-defined]
    with pytest.raises(TypeError):  # not even around the class's own __setattr__
        object.__setattr__(agent, "name", "bob")
    assert agent == Agent("ada", "Ada", Role.OPERATOR) and agent.name == "ada"


def test_constructor_takes_defaults_factories_and_rejects_bad_arguments() -> None:
    a, b = Customer(1, "Ada", "Lovelace"), Customer(2, "Bob", "Rossi")
    assert a.consents == {} and a.consents is not b.consents  # a fresh dict each
    assert a.currency == "EUR" and a.version == 1 and a.emails == ()
    assert Customer(1, "Ada", "Lovelace", consents={"email": True}).consents == {"email": True}
    assert Customer(id=3, last_name="X", first_name="Y").display_name == "Y X"
    report = KpiReport(AT, AT, AT, KpiBucket.HOUR, None)
    assert report.asa == DurationKpi() and report.max_open == 25
    with pytest.raises(TypeError):
        Customer(1)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Customer(1, "a", "b", nickname="x")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Customer(1, "a", "b", id=2)  # type: ignore[misc]


def test_replace_copy_and_pickle_keep_every_field() -> None:
    customer = Customer(7, "Ada", "Lovelace", emails=("ada@example.com",), tags=("vip",))
    changed = msgspec.structs.replace(customer, first_name="Augusta")
    assert changed.first_name == "Augusta" and changed.emails == customer.emails
    assert customer.first_name == "Ada"
    for clone in (
        copy.copy(customer),
        copy.deepcopy(customer),
        pickle.loads(pickle.dumps(customer)),
    ):
        assert clone == customer and clone is not customer
    agent = Agent("ada", "Ada", Role.ADMIN)
    assert hash(pickle.loads(pickle.dumps(agent))) == hash(agent)
    assert msgspec.structs.asdict(agent) == {
        "name": "ada",
        "display_name": "Ada",
        "role": Role.ADMIN,
        "intents": (),
        "languages": (),
        "channels": (),
        "capacity": (),
        "presence": Presence.OFFLINE,
        "disabled": False,
    }
