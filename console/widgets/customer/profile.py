"""The profile header and key facts of the single customer view."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from backends.models import Customer, CustomerFacts, IdentityKind
from console.format import money, when
from console.safe_text import clean, content

IDENTITY_LABEL = {
    IdentityKind.EMAIL: "e-mail",
    IdentityKind.PHONE: "phone",
    IdentityKind.EXTERNAL_ID: "id",
    IdentityKind.LOYALTY_CARD: "loyalty",
    IdentityKind.WHATSAPP_ID: "whatsapp",
    IdentityKind.VISITOR_ID: "visitor",
}
CONFLICT_FIELD = {"email": IdentityKind.EMAIL, "phone": IdentityKind.PHONE}


def profile_content(customer: Customer, *, compact: bool = False) -> Content:
    """Name, segment, tier, LTV, language, consents, flags, identities with sources."""
    head, identities = profile_parts(customer, compact=compact)
    return Content("\n").join([head, *identities])


def profile_parts(customer: Customer, *, compact: bool = False) -> tuple[Content, list[Content]]:
    """(name, flags, segment, tier, LTV and language; consents, one line per identity with
    its sources, then the fields the sources disagree on)."""
    flags: list[tuple[str, str]] = []
    if customer.churn_risk:
        flags.append((" CHURN RISK ", "bold $text-error on $error-muted"))
    if customer.unhappy:
        flags.append((" UNHAPPY ", "bold $text-warning on $warning-muted"))
    for tag in customer.tags:
        if tag != "churn-risk":
            flags.append((f" {clean(tag, max_length=20)} ", "$text-accent on $accent-muted"))
    head = [content(customer.display_name, "bold $primary"), ("  ", "")]
    for text, style in flags:
        head += [(text, style), (" ", "")]
    top = [Content.assemble(*head)]
    consents = consent_text(customer)
    top.append(
        Content.assemble(
            content(f"{customer.segment or '—'} · {customer.tier or '—'}", "bold"),
            f" · LTV {money(customer.lifetime_value, customer.currency)}",
            " · lang ",
            content(customer.language or "—", "bold"),
        )
    )
    lines: list[Content] = [Content.assemble(("consents ", "dim"), content(consents or "—"))]
    if customer.churn_reasons and (customer.next_action or customer.churn_risk):
        churn: list[tuple[str, str] | Content | str] = [
            ("churn ", "dim"),
            (f"{customer.churn_score:.2f} ", "bold"),
            content(", ".join(customer.churn_reasons)),
        ]
        if customer.next_action:
            churn += [("  → ", "dim"), content(customer.next_action, "bold $accent")]
        lines.append(Content.assemble(*churn))
    conflicts = {c.field: c for c in customer.conflicts()}
    disputed = {CONFLICT_FIELD[f] for f in conflicts if f in CONFLICT_FIELD}
    idents = [
        i for i in customer.identities if i.kind is not IdentityKind.VISITOR_ID or not compact
    ]
    by_value: dict[tuple[IdentityKind, str], list[str]] = {}
    shown: dict[tuple[IdentityKind, str], str] = {}
    for ident in idents:
        by_value.setdefault((ident.kind, ident.value), []).append(ident.source)
        shown.setdefault((ident.kind, ident.value), ident.shown)
    for (kind, key), sources in by_value.items():
        value = shown[(kind, key)]
        mark = ("≠ ", "bold $error") if kind in disputed else ("  ", "")
        lines.append(
            Content.assemble(
                mark,
                (f"{IDENTITY_LABEL.get(kind, kind.value):>8} ", "dim"),
                content(value),
                ("  ← " + ", ".join(clean(s) for s in sorted(set(sources))), "dim $secondary"),
            )
        )
    for name, conflict in conflicts.items():
        said = "; ".join(
            f"{clean(src)}: {clean(val, max_length=60)}" for src, val in conflict.values.items()
        )
        lines.append(
            Content.assemble(
                ("≠ sources disagree on ", "bold $error"),
                (clean(name), "bold"),
                (": ", ""),
                content(said),
            )
        )
    return Content("\n").join(top), lines


def consent_text(customer: Customer) -> str:
    """Each channel's consent, channels that share a source and day grouped:
    `email✓ sms✗ (crm, 2026-06-19)  whatsapp✓ (agent:giulia, 2026-11-20)`."""
    groups: dict[str, list[str]] = {}
    for c in customer.consent_log:
        where = f"({clean(c.source, max_length=24)}, {c.at:%Y-%m-%d})" if c.source and c.at else ""
        groups.setdefault(where, []).append(f"{clean(c.channel)}{'✓' if c.granted else '✗'}")
    return "  ".join(" ".join([*marks, where]).strip() for where, marks in groups.items())


def facts_content(facts: CustomerFacts) -> Content:
    """Last order, open tickets, last contact, satisfaction: one or two lines."""
    order: list[tuple[str, str] | Content | str] = [("Last order ", "dim")]
    if facts.last_order_number:
        order += [
            content(facts.last_order_number, "bold"),
            " ",
            content(facts.last_order_status or "?", "$accent"),
            (f" {when(facts.last_order_at)}", "dim"),
        ]
    else:
        order.append("none")
    order += [(f" · {facts.orders_count} orders", "dim")]
    contact: list[tuple[str, str] | Content | str] = [
        ("Open tickets ", "dim"),
        (str(facts.open_tickets), "bold"),
        ("  open contacts ", "dim"),
        (str(facts.open_contacts), "bold"),
        ("  last contact ", "dim"),
    ]
    if facts.last_contact_at:
        contact += [
            content(f"{facts.last_contact_channel or '?'} {facts.last_contact_outcome or ''}"),
            (f" {when(facts.last_contact_at)}", "dim"),
        ]
    else:
        contact.append("none")
    csat = f"{facts.csat_average:.1f}/5" if facts.csat_average is not None else "—"
    nps = str(facts.nps_last) if facts.nps_last is not None else "—"
    contact += [("  CSAT ", "dim"), (csat, "bold"), ("  NPS ", "dim"), (nps, "bold")]
    return Content("\n").join(
        [Content.assemble(*order), Content.assemble(*contact), *web_content(facts)]
    )


def web_content(facts: CustomerFacts) -> list[Content]:
    """The web journey in a line or two: a checkout left unfinished (no order since) first,
    then the newest visit and product looked at; nothing when the customer has none."""
    lines = []
    if facts.checkout_abandoned_at is not None:
        cart = ", ".join(facts.checkout_cart)
        lines.append(
            Content.assemble(
                ("Abandoned checkout at ", "bold $warning"),
                content(facts.checkout_abandoned_step or "?", "bold $warning"),
                (f" {when(facts.checkout_abandoned_at)}", "dim"),
                *([(" · cart ", "dim"), content(cart, max_length=120)] if cart else []),
            )
        )
    if facts.last_visit_at is not None or facts.last_viewed:
        visit: list[tuple[str, str] | Content | str] = [("Last visit ", "dim")]
        visit.append((when(facts.last_visit_at), "") if facts.last_visit_at else ("none", ""))
        if facts.last_viewed:
            visit += [(" · viewed ", "dim"), content(facts.last_viewed, max_length=60)]
        lines.append(Content.assemble(*visit))
    return lines


class ProfileHeader(Static):
    """Profile header plus key facts; `show()` replaces both."""

    def show(self, customer: Customer | None, facts: CustomerFacts | None) -> None:
        if customer is None:
            self.update(Content.styled("No customer open. Pick a contact or search (/).", "dim"))
            return
        # the key facts and the web journey right under the name, where a short terminal
        # still shows them; the identities (often many lines) after
        head, identities = profile_parts(customer)
        parts = [head]
        if facts is not None:
            parts.append(facts_content(facts))
        self.update(Content("\n").join([*parts, *identities]))
