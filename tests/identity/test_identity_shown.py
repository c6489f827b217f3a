"""An identifier is matched on its normalised value but shown as the source typed it."""

from __future__ import annotations

from pathlib import Path

from backends.models import IdentityKind
from backends.sqlite.backend import SQLiteBackend
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store


def test_a_gmail_address_matches_without_dots_and_shows_with_them(tmp_path: Path) -> None:
    crm = tmp_path / "crm.csv"
    crm.write_text(
        "id,first_name,last_name,email,phone\n"
        "C1,Anna,Russo,Anna.Russo@Gmail.com,+39 347 111 2233\n",
        "utf-8",
    )
    shop = tmp_path / "shop.csv"
    shop.write_text("id,first_name,last_name,email\nW1,Anna,Russo,annarusso@gmail.com\n", "utf-8")
    db = tmp_path / "vista.db"
    store = Store(db, create=True)
    run_import(store, crm, ImportOptions("crm"), now=1000)
    run_import(store, shop, ImportOptions("webshop"), now=2000)
    store.close()
    with SQLiteBackend(db, agent="giulia") as backend:
        hits = backend.search_customers("russo")
        assert len(hits) == 1  # one person: the two addresses are the same Gmail mailbox
        customer = backend.get_customer(hits[0].id)
    emails = {
        (i.source, i.value, i.shown) for i in customer.identities if i.kind is IdentityKind.EMAIL
    }
    assert emails == {
        ("crm", "annarusso@gmail.com", "anna.russo@gmail.com"),
        ("webshop", "annarusso@gmail.com", "annarusso@gmail.com"),
    }
    phone = next(i for i in customer.identities if i.kind is IdentityKind.PHONE)
    assert phone.shown == "+393471112233"  # a phone is shown in E.164
