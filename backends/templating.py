"""Reply templates: the variables Vista knows, filling them, and the lint every send path runs.

Pure Python. The console fills a template when the operator inserts it; the
backends refuse an outbound reply that still holds a *known* variable nobody
filled (`{first_name}` typed into the CLI), while text such as `{word}` that
is not a Vista variable goes out as written (code snippets, odd names).
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from backends.models import Agent, Channel, Contact, Customer, CustomerFacts, Template

VARIABLE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_.]*)\}")

#: Every variable a template may use, in the order the composer lists them.
KNOWN: tuple[str, ...] = (
    "first_name",
    "last_name",
    "last_order.number",
    "last_order.status",
    "checkout.step",
    "checkout.cart",
    "last_viewed",
    "agent.name",
    "contact.subject",
)

#: Variables whose values come from the customer's facts (orders, web journey).
FACT_VARIABLES = frozenset(
    {"last_order.number", "last_order.status", "checkout.step", "checkout.cart", "last_viewed"}
)

#: What a WhatsApp template parameter may hold: one line, no tabs.
_PARAMETER = r"[^\n\t]+?"


def variables(
    customer: Customer | None,
    facts: CustomerFacts | None,
    contact: Contact | None,
    agent: Agent | None,
) -> dict[str, str]:
    """The values a template may use; a variable without a value is left out."""
    values: dict[str, str] = {}
    if customer is not None:
        values["first_name"] = customer.first_name
        values["last_name"] = customer.last_name
    if facts is not None:
        if facts.last_order_number:
            values["last_order.number"] = facts.last_order_number
        if facts.last_order_status:
            values["last_order.status"] = facts.last_order_status
        if facts.checkout_abandoned_step:
            values["checkout.step"] = facts.checkout_abandoned_step
            values["checkout.cart"] = ", ".join(facts.checkout_cart)
        if facts.last_viewed:
            values["last_viewed"] = facts.last_viewed
    if agent is not None:
        values["agent.name"] = agent.display_name or agent.name
    if contact is not None:
        values["contact.subject"] = contact.subject
    return {k: v for k, v in values.items() if v}


def placeholders(body: str) -> list[str]:
    """Every `{name}` in the text, known or not, first occurrence order."""
    return list(dict.fromkeys(VARIABLE.findall(body)))


def needs_facts(body: str) -> bool:
    """Whether filling or checking `body` needs the customer's facts."""
    return any(name in FACT_VARIABLES for name in placeholders(body))


def fill(body: str, values: dict[str, str]) -> str:
    """Replace every `{variable}` that has a value; the others stay as they are."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def fill_html(body: str, values: dict[str, str]) -> str:
    """`fill` for an HTML template: the values are escaped (customer text is hostile)."""
    return VARIABLE.sub(
        lambda m: html.escape(values[m.group(1)]) if m.group(1) in values else m.group(0), body
    )


def known_variables(template_bodies: Iterable[str | None] = ()) -> frozenset[str]:
    """The variables a reply may hold unfilled by mistake: those Vista fills, and any a
    stored template uses (`{loyalty.points}` in a template is a variable, not text)."""
    found = set(KNOWN)
    for body in template_bodies:
        if body:
            found.update(VARIABLE.findall(body))
    return frozenset(found)


def unresolved(body: str, values: dict[str, str], known: Iterable[str] | None = None) -> list[str]:
    """Known variables (`known`, default `KNOWN`) still standing in the text unfilled.

    A `{first_name}` that a value itself contains (a customer whose name is
    literally "{first_name}") came from filling, so it is not flagged.
    """
    variables_ = frozenset(KNOWN if known is None else known)
    filled = [v for v in values.values() if "{" in v]
    return [
        name
        for name in placeholders(body)
        if name in variables_ and not any("{" + name + "}" in v for v in filled)
    ]


def unresolved_message(names: list[str]) -> str:
    """The one-line refusal for text with unfilled variables."""
    shown = ", ".join("{" + n + "}" for n in names)
    what = "variable" if len(names) == 1 else "variables"
    return (
        f"unfilled template {what} {shown}: write the value in (this customer has none "
        "on file), or insert the template in the console to fill it"
    )


def matches(body: str, template_body: str) -> bool:
    """Whether `body` is `template_body` with each variable filled by one line of text.

    The fixed words must be exactly the template's (that is what WhatsApp approved);
    the variables are its parameters.
    """
    parts = VARIABLE.split(template_body)
    # split() alternates literal text and variable names
    pattern = "".join(re.escape(p) if i % 2 == 0 else _PARAMETER for i, p in enumerate(parts))
    return re.fullmatch(pattern, body) is not None


def offered(templates: Iterable[Template], channel: Channel | None) -> tuple[Template, ...]:
    """The templates a reply on `channel` may use: not retired, meant for that channel (or
    any), and approved when they are WhatsApp templates (WhatsApp sends only what its
    provider approved). `channel` None: every usable template."""
    return tuple(
        t
        for t in templates
        if not t.retired
        and (channel is None or t.channel in (None, channel))
        and (t.channel is not Channel.WHATSAPP or t.whatsapp_approved)
    )
