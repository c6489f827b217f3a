"""Personal data in `vista customers`: export everything held on a person, erase them, and
the legal hold that stops an erasure (admins)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from backends.base import InvalidInput
from console.cli.kit import STATE, JsonOpt, handles_errors, mutating
from console.cli.output import emit_json, fail, stderr, stdout
from console.safe_text import clean
from console.settings import Drafts, Settings

CustomerArg = Annotated[int, typer.Argument(metavar="ID", help="Customer id.")]


def customers_export(
    customer_id: CustomerArg,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Write the bundle to this file (default: stdout)."),
    ] = None,
) -> None:
    """Everything Vista holds on one person (GDPR access request) as one JSON bundle:
    a summary for people, then profile with provenance, source records, identities,
    timeline, contacts, messages, consents and the audit entries about them."""
    bundle = STATE.backend().export_customer(customer_id)
    text = json.dumps(bundle.to_json(), ensure_ascii=False, indent=2) + "\n"
    if out is None:
        sys.stdout.write(text)
        return
    try:
        with open(out, "x", encoding="utf-8") as file:  # never over another file
            file.write(text)
    except FileExistsError as e:
        raise InvalidInput(f"{out} exists: choose another --out") from e
    except OSError as e:
        raise InvalidInput(f"cannot write {out}: {e.strerror}") from e
    out.chmod(0o600)  # personal data: only its owner reads it
    for line in bundle.summary:
        stdout.print(clean(line), markup=False, highlight=False)
    stdout.print(f"written to {out}", markup=False, highlight=False)


def customers_erase(
    customer_id: CustomerArg,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
    json_: JsonOpt = False,
) -> None:
    """Anonymise one person everywhere (GDPR erasure): profile, source records,
    identities, messages, search index, outbox and this computer's drafts of their
    contacts. Counts, times and channels stay for the KPIs. Refused under a legal hold;
    a later import of one of their source records is held, not imported."""
    backend = STATE.backend(write=True)
    if not yes:
        if not sys.stdin.isatty():
            fail("erasing cannot be undone: pass --yes to confirm", 2)
        typer.confirm(f"Erase customer {customer_id} for good?", abort=True)
    report = backend.erase_customer(customer_id)
    drafts = Drafts(Settings.load().drafts_path, scope=backend.location)
    for contact_id in report.contact_ids:
        drafts.discard(contact_id)
    if json_:
        emit_json(report)
        return
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    stdout.print(f"customer {customer_id} erased ({counts})", markup=False, highlight=False)
    if not report.wal_cleared:
        stderr.print(
            "warning: another program is reading the store: the erased values stay in its "
            "write-ahead log (-wal file) until the next full checkpoint, which runs once "
            "that program lets go of the store",
            markup=False,
        )


def customers_hold(
    customer_id: CustomerArg,
    state: Annotated[
        str | None, typer.Argument(metavar="[on|off]", help="Set or lift it (omit: show it).")
    ] = None,
    json_: JsonOpt = False,
) -> None:
    """A legal hold: while it is on, the customer cannot be erased."""
    if state is None:
        hold = STATE.backend().legal_hold(customer_id)
    elif state.strip().lower() in ("on", "off"):
        if STATE.read_only:
            fail("vista is running --read-only: this command changes data")
        hold = STATE.backend(write=True).set_legal_hold(customer_id, state.strip().lower() == "on")
    else:
        raise InvalidInput(f"hold is on or off (got {clean(state)!r})")
    if json_:
        emit_json(hold)
        return
    text = (
        f"on (since {hold.at:%Y-%m-%d %H:%M}, by {clean(hold.by)})"
        if hold.held and hold.at
        else "off"
    )
    stdout.print(f"customer {customer_id}: legal hold {text}", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Add `export`, `erase` and `hold` to the `customers` group."""
    from console.cli.app import customers_app

    customers_app.command("export")(handles_errors(customers_export))
    customers_app.command("erase")(mutating(handles_errors(customers_erase)))
    customers_app.command("hold")(handles_errors(customers_hold))
