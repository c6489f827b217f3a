"""Delivery receipts into the outbox: what providers report after a send, on the message.

A WhatsApp status, a Twilio status callback or an e-mail bounce arrives as a
`DeliveryUpdate` naming the provider's id of the message (the receipt's id at
send time); sent, delivered and read move the message forward (never back),
failed marks it failed with the provider's reason.
"""

from __future__ import annotations

import logging

from backends.channels.connector import Outbox
from backends.models import Delivery
from backends.providers.delivery import DeliveryHook, DeliveryState, DeliveryUpdate

log = logging.getLogger("vista.receipts")

_DELIVERY = {
    DeliveryState.SENT: Delivery.SENT,
    DeliveryState.DELIVERED: Delivery.DELIVERED,
    DeliveryState.READ: Delivery.READ,
}


def record(outbox: Outbox, update: DeliveryUpdate) -> bool:
    """Put one update on its message; False when no sent message has that id (or the
    update says nothing new: still queued at the provider)."""
    if update.state is DeliveryState.FAILED:
        return outbox.record_failure(update.provider_message_id, update.reason or "failed")
    delivery = _DELIVERY.get(update.state)
    if delivery is None:
        return False
    return outbox.record_receipt(update.provider_message_id, delivery)


def receipt_hook(outbox: Outbox) -> DeliveryHook:
    """The `on_delivery_update` hook that records every update in `outbox`."""

    def hook(update: DeliveryUpdate) -> None:
        found = record(outbox, update)
        log.info(
            "delivery update %s %s: %s%s",
            update.provider,
            update.provider_message_id,
            update.state.value,
            "" if found else " (no message with this id)",
        )

    return hook
