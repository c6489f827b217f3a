"""Contract: templates managed through the backend. Admins add, edit, approve (WhatsApp, with
the provider's name) and retire them; others may not; a reply uses only a template that may
be sent (not retired; a WhatsApp one only once approved)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from backends.base import Conflict, Forbidden, InvalidInput, NotFound
from backends.models import Channel
from backends.templating import offered
from tests.backends.conftest import BackendFactory
from tests.conftest import NOW


def test_an_admin_adds_edits_approves_and_retires_a_template(
    make_backend: BackendFactory,
) -> None:
    admin = make_backend("admin")
    added = admin.add_template(
        "spedizione_it",
        "Ciao {first_name}, il suo ordine è partito.",
        channel="whatsapp",
        language="it",
    )
    assert (added.channel, added.language, added.whatsapp_approved) == (
        Channel.WHATSAPP,
        "it",
        False,
    )
    assert "spedizione_it" in [t.name for t in admin.templates()]
    assert "spedizione_it" not in [t.name for t in offered(admin.templates(), Channel.WHATSAPP)]
    approved = admin.approve_template("spedizione_it", "order_shipped_it")
    assert (approved.whatsapp_approved, approved.provider_name) == (True, "order_shipped_it")
    assert "spedizione_it" in [t.name for t in offered(admin.templates(), Channel.WHATSAPP)]
    # other words need a new approval; the language alone does not
    assert admin.edit_template("spedizione_it", language="it-IT").whatsapp_approved
    edited = admin.edit_template("spedizione_it", body="Ciao {first_name}, è partito!")
    assert (edited.whatsapp_approved, edited.provider_name) == (False, "")
    retired = admin.retire_template("spedizione_it")
    assert retired.retired
    assert "spedizione_it" not in [t.name for t in admin.templates()]
    assert "spedizione_it" in [t.name for t in admin.templates(retired=True)]


def test_bad_template_input_is_refused_naming_what_is_wrong(make_backend: BackendFactory) -> None:
    admin = make_backend("admin")
    admin.add_template("saluto", "Buongiorno")
    with pytest.raises(Conflict, match="exists"):
        admin.add_template("saluto", "Buonasera")
    with pytest.raises(InvalidInput, match="empty"):
        admin.add_template("vuoto", "   ")
    with pytest.raises(InvalidInput, match="unknown channel 'fax'"):
        admin.add_template("fax_it", "Ciao", channel="fax")
    with pytest.raises(InvalidInput, match="language"):
        admin.add_template("lingua", "Ciao", language="italiano")
    with pytest.raises(InvalidInput, match="provider name"):
        admin.approve_template("saluto", "Has Spaces")
    with pytest.raises(NotFound):
        admin.retire_template("nessuno")
    admin.add_template("solo_email", "Gentile cliente", channel="email")
    with pytest.raises(InvalidInput, match="only WhatsApp templates"):
        admin.approve_template("solo_email", "solo_email")


def test_only_admins_manage_templates(make_backend: BackendFactory) -> None:
    with pytest.raises(Forbidden):  # a supervisor gets ReadOnly, a Forbidden
        make_backend("anna").add_template("nope", "Ciao")
    with pytest.raises(Forbidden, match="admin|not allowed for operator"):
        make_backend("giulia").add_template("nope", "Ciao")
    assert "nope" not in [t.name for t in make_backend("admin").templates(retired=True)]


def test_a_reply_may_not_use_a_retired_or_unapproved_whatsapp_template(
    make_backend: BackendFactory,
) -> None:
    admin, giulia = make_backend("admin"), make_backend()
    admin.add_template("attesa", "Un attimo, verifico.", channel="whatsapp")
    contact = giulia.deliver_inbound(
        Channel.WHATSAPP, "+39 347 555 0401", "Ciao", at=NOW - timedelta(hours=1)
    ).contact.id
    with pytest.raises(InvalidInput, match="not approved yet"):
        giulia.reply(contact, "", template="attesa")
    admin.approve_template("attesa", "attesa_it")
    assert giulia.reply(contact, "", template="attesa").body == "Un attimo, verifico."
    admin.retire_template("attesa")
    with pytest.raises(InvalidInput, match="retired"):
        giulia.reply(contact, "", template="attesa")
