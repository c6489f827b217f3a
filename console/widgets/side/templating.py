"""Filling canned reply templates with variables from the profile, facts, contact and agent."""

from __future__ import annotations

import re

from backends.models import Agent, Contact, Customer, CustomerFacts

VARIABLE = re.compile(r"\{([a-zA-Z_][a-zA-Z0-9_.]*)\}")


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


def fill(body: str, values: dict[str, str]) -> str:
    """Replace every `{variable}` that has a value; unknown ones stay as they are."""
    return VARIABLE.sub(lambda m: values.get(m.group(1), m.group(0)), body)


def unresolved(body: str) -> list[str]:
    """Variables still in the text (to flag before sending)."""
    return list(dict.fromkeys(VARIABLE.findall(body)))
