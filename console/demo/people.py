"""One person at a time: the demo's source records, orders, web sessions and conversations.

Each person exists in one to three source systems (CRM, web shop, support
desk) with the usual mess: phones in different formats, an e-mail changed
in one system only, typos, missing fields, duplicate web-shop accounts.
Around them: orders with items and deliveries, web sessions (some abandoned
at a named checkout step), conversations on every channel, surveys, and an
open queue with SLA due times, some breached, some assigned.

Pure Python and deterministic for a seed and a `now`: it never reads the
database, so it can run in a process of its own beside the one that writes.
"""

from __future__ import annotations

import json
import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from backends.identity.features import extract
from backends.identity.normalise import email as normalise_email
from backends.sqlite.identity.resolver import Incoming
from console.demo import vocab

DAY = 86400
HOUR = 3600

SLA_SECONDS = {
    "chat": HOUR,
    "whatsapp": 4 * HOUR,
    "phone": 2 * HOUR,
    "sms": 8 * HOUR,
    "email": 24 * HOUR,
    "web": 24 * HOUR,
}
EVENT_KIND_BY_CHANNEL = {
    "email": "email",
    "chat": "chat",
    "phone": "call",
    "whatsapp": "whatsapp",
    "sms": "sms",
    "web": "ticket",
}
#: Channels whose sender is a phone number.
PHONE_CHANNELS = frozenset({"chat", "whatsapp", "phone", "sms"})
#: A contact about an order names one placed at most this long before it.
ORDER_RECENCY = 60 * DAY
CHANNELS = (
    "email",
    "email",
    "email",
    "chat",
    "chat",
    "whatsapp",
    "whatsapp",
    "phone",
    "sms",
    "web",
)


@dataclass
class Batch:
    """The rows of a run of consecutive people, keyed by the generator's own ids.

    `customer_id` columns hold the person's number; the writer re-points them to the
    customer each record resolved to. `items` are the source records, normalised,
    ready for the Resolver (record i of `records` is item i).
    """

    first: int = 0  # the first person's number
    size: int = 0  # how many people
    customers: list[tuple[Any, ...]] = field(default_factory=list)
    records: list[tuple[Any, ...]] = field(default_factory=list)
    items: list[Incoming] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    # the generator record id of each order's event, and of each contact's first event (the
    # customer it resolved to owns the order or contact); None: the person's first record
    order_records: list[int | None] = field(default_factory=list)
    contact_records: list[int | None] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # running totals after this batch


class _Random(random.Random):
    """`random.Random` with its integer draws inlined: the same numbers from the same calls
    (CPython's `randrange` and `choice` are `_randbelow` on a bit draw, redrawn until it
    fits), without three Python-level calls per draw, which are a fifth of making a person."""

    def randint(self, a: int, b: int) -> int:
        n = b - a + 1
        k = n.bit_length()
        r = self.getrandbits(k)
        while r >= n:
            r = self.getrandbits(k)
        return a + r

    def randrange(self, start: int, stop: int | None = None, step: int = 1) -> int:
        if step != 1:
            return super().randrange(start, stop, step)
        if stop is None:
            start, stop = 0, start
        n = stop - start
        if n <= 0:
            raise ValueError(f"empty range in randrange({start}, {stop})")
        k = n.bit_length()
        r = self.getrandbits(k)
        while r >= n:
            r = self.getrandbits(k)
        return start + r

    def choice(self, seq: Any) -> Any:
        n = len(seq)
        if not n:
            raise IndexError("Cannot choose from an empty sequence")
        k = n.bit_length()
        r = self.getrandbits(k)
        while r >= n:
            r = self.getrandbits(k)
        return seq[r]


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
# The C encoder `JSONEncoder.encode` builds on every call, built once (same options; no
# circular-reference check: these values are fresh trees). A quarter of the cost of a
# small payload, a few million times per 100,000 people.
_C_MAKE_ENCODER = getattr(json.encoder, "c_make_encoder", None)  # absent without the C speedups
_C_ENCODE = (
    _C_MAKE_ENCODER(
        None, _ENCODER.default, json.encoder.encode_basestring, None, ":", ",", False, False, True
    )
    if _C_MAKE_ENCODER is not None
    else None
)


def dumps(value: Any) -> str:
    """Compact JSON, as `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`."""
    if _C_ENCODE is None or isinstance(value, str):
        return _ENCODER.encode(value)
    return "".join(_C_ENCODE(value, 0))


class People:
    """Makes people one after the other from one random stream (the order is the data)."""

    def __init__(self, seed: int, now: int) -> None:
        self.rng = _Random(seed)
        self.now = now
        self.event_id = 0
        self.contact_id = 0
        self.message_id = 0
        self.order_seq = 0
        self.record_id = 0
        self.summary_counts = {"events": 0, "contacts": 0, "open": 0, "messages": 0, "records": 0}
        self.batch_emails: set[str] = set()  # e-mails handed out in the batch being built
        # normalised e-mails of the records of earlier batches (what the store's identities
        # hold once they are written): about 100 bytes a person
        self.stored_emails: set[str] = set()

    def _taken(self, email: str) -> bool:
        """Whether another person already has this e-mail (this batch, or the store)."""
        key = normalise_email(email)
        if key in self.batch_emails or key in self.stored_emails:
            return True
        self.batch_emails.add(key)
        return False

    def batch(self, first: int, count: int) -> Batch:
        """People `first` .. `first + count - 1`, with their records normalised for the Resolver."""
        b = Batch(first, count)
        self.batch_emails = set()
        for cid in range(first, first + count):
            self.person(cid, b)
        stored = self.stored_emails
        for item in b.items:
            for key in item.features.emails:
                stored.add(key)
        b.counts = dict(self.summary_counts, events=self.event_id)
        return b

    # -- small helpers ------------------------------------------------------

    def _typo(self, name: str) -> str:
        if len(name) < 4:
            return name
        i = self.rng.randrange(1, len(name) - 2)
        return name[:i] + name[i + 1] + name[i] + name[i + 2 :]

    def _event(
        self,
        b: Batch,
        cid: int,
        at: int,
        kind: str,
        channel: str,
        source: str,
        summary: str,
        payload: dict[str, Any],
        contact_id: int | None = None,
        record_id: int | None = None,
    ) -> int:
        self.event_id += 1
        b.events.append(
            (
                cid,
                at,
                self.event_id,
                kind,
                channel,
                source,
                summary,
                dumps(payload),
                contact_id,
                record_id,
            )
        )
        return self.event_id

    # -- one person -----------------------------------------------------------

    def person(self, cid: int, b: Batch) -> None:
        rng = self.rng
        female = rng.random() < 0.52
        first = rng.choice(vocab.FIRST_NAMES_F if female else vocab.FIRST_NAMES_M)
        last = rng.choice(vocab.LAST_NAMES)
        english = rng.random() < 0.15
        language = "en" if english else "it"
        city, _province, region, cap = rng.choice(vocab.CITIES)
        street = f"{rng.choice(vocab.STREETS)} {rng.randint(1, 180)}"
        postal = f"{cap}{rng.randint(0, 99):02d}"
        national = rng.choice(vocab.MOBILE_PREFIXES) + f"{rng.randint(0, 9_999_999):07d}"
        e164 = "+39" + national
        local = _ascii(f"{first}.{last}").replace(" ", "").replace("'", "")
        if rng.random() < 0.4:
            local += str(rng.randint(1, 99))
        email = f"{local}@{rng.choice(vocab.EMAIL_DOMAINS)}"
        while self._taken(email):  # a mailbox has one owner
            email = f"{local}{rng.randint(1, 9999)}@{rng.choice(vocab.EMAIL_DOMAINS)}"
        new_email = None
        if rng.random() < 0.12:  # changed e-mail in the support desk only
            new_email = f"{_ascii(first)}{rng.randint(70, 99)}@{rng.choice(vocab.EMAIL_DOMAINS)}"
            while self._taken(new_email):
                new_email = (
                    f"{_ascii(first)}{rng.randint(100, 99999)}@{rng.choice(vocab.EMAIL_DOMAINS)}"
                )
        birth = None
        if rng.random() < 0.7:
            birth = f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        created = self.now - rng.randint(30 * DAY, 3 * 365 * DAY)
        power = rng.random() < 0.005
        segment = "business" if rng.random() < 0.08 else "consumer"
        tier = rng.choices(("bronze", "silver", "gold", "platinum"), (60, 25, 12, 3))[0]
        consents = {
            "email": rng.random() < 0.6,
            "sms": rng.random() < 0.3,
            "whatsapp": rng.random() < 0.4,
        }

        # -- source records --
        in_crm = rng.random() < 0.85
        in_shop = rng.random() < 0.75 or not in_crm
        in_desk = rng.random() < 0.45
        records: list[tuple[str, str, dict[str, Any], int]] = []
        if in_crm:
            fields: dict[str, Any] = {
                "first_name": first,
                "last_name": last,
                "email": email,
                "phone": vocab.phone_format(national, rng.randrange(4)),
                "street": street,
                "city": city,
                "postal_code": postal,
                "region": region,
                "country": "IT",
                "tier": tier,
                "language": language,
            }
            if birth:
                fields["birth_date"] = birth
            if rng.random() < 0.1:
                del fields["phone"]
            records.append(("crm", f"CRM-{cid:08d}", fields, created))
        visitor = f"v-{cid:x}{rng.randint(0, 0xFFFF):04x}"
        if in_shop:
            fields = {
                "first_name": self._typo(first) if rng.random() < 0.06 else first,
                "last_name": last.upper() if rng.random() < 0.1 else last,
                "email": email.upper() if rng.random() < 0.05 else email,
                "phone": vocab.phone_format(national, rng.randrange(4)),
                "street": street.replace("Via ", "V. ") if rng.random() < 0.2 else street,
                "city": city,
                "postal_code": postal,
                "country": "IT",
                "visitor_id": visitor,
            }
            records.append(
                (
                    "webshop",
                    f"WS-{cid:08d}",
                    fields,
                    min(self.now - DAY, created + rng.randint(0, 90 * DAY)),
                )
            )
            if rng.random() < 0.04:  # a guest checkout: a second account, no phone
                records.append(
                    (
                        "webshop",
                        f"WS-G{cid:08d}",
                        {
                            "first_name": first,
                            "last_name": last,
                            "email": email,
                            "city": city,
                        },
                        min(self.now - DAY, created + rng.randint(0, 300 * DAY)),
                    )
                )
            if rng.random() < 0.03:  # an old account: surname mistyped, no e-mail or phone
                records.append(
                    (
                        "webshop",
                        f"WS-D{cid:08d}",
                        {
                            "first_name": first,
                            "last_name": self._typo(last) if len(last) > 4 else last + last[-1],
                            "street": street,
                            "city": city,
                            "postal_code": postal,
                            "country": "IT",
                        },
                        created - rng.randint(30 * DAY, 400 * DAY),
                    )
                )
        if in_desk:
            fields = {
                "name": f"{first} {last}"
                if rng.random() < 0.7
                else f"{first.lower()} {last.lower()}",
                "email": new_email or email,
                "phone": vocab.phone_format(national, rng.randrange(4)),
            }
            if rng.random() < 0.5:
                fields["whatsapp"] = e164
            records.append(
                (
                    "helpdesk",
                    f"HD-{cid:08d}",
                    fields,
                    min(self.now - DAY, created + rng.randint(0, 400 * DAY)),
                )
            )
        # the consents come with the first record (the CRM's, else the shop's), imported
        # like any source's: identity resolution makes them the profile's, with provenance
        records[0][2].update({f"consent_{k}": "yes" if v else "no" for k, v in consents.items()})
        record_ids: dict[str, int] = {}
        for source, source_id, fields, at in records:
            self.record_id += 1
            record_ids.setdefault(source, self.record_id)
            b.records.append((self.record_id, source, source_id, cid))
            b.items.append(Incoming(source, source_id, fields, extract(fields, "IT"), at, cid))
        self.summary_counts["records"] += len(records)
        emails = [new_email, email] if new_email else [email]
        # a contact belongs to the customer of the support desk's record when there is one
        # (see contact_records): the customer writes from an address and number it holds
        desk_fields = next((f for src, _, f, _ in records if src == "helpdesk"), None)
        if desk_fields is not None:
            has_phone = "phone" in desk_fields or "whatsapp" in desk_fields
            writes_from = desk_fields["email"]
        else:
            has_phone = any("phone" in f or "whatsapp" in f for _, _, f, _ in records)
            writes_from = email
        shop_record = record_ids.get("webshop")
        desk_record = record_ids.get("helpdesk")
        crm_record = record_ids.get("crm")

        # -- orders --
        n_orders = rng.choices((0, 1, 2, 3, 5, 8), (25, 30, 20, 12, 9, 4))[0]
        if power:
            n_orders = rng.randint(25, 40)
        order_numbers: list[str] = []
        order_times: list[tuple[int, str]] = []
        ltv = 0.0
        last_order_at = 0
        for _ in range(n_orders):
            self.order_seq += 1
            at = rng.randint(created, self.now - HOUR)
            year = datetime.fromtimestamp(at).year
            number = f"VS-{year}-{self.order_seq:07d}"
            items: list[dict[str, Any]] = []
            for sku, name, price, _cat in rng.sample(vocab.PRODUCTS, rng.choice((1, 1, 2, 3))):
                qty = rng.choice((1, 1, 1, 2))
                items.append({"sku": sku, "name": name, "qty": qty, "price": price})
            total = round(sum(i["price"] * i["qty"] for i in items) + rng.choice((0, 4.9)), 2)
            status = rng.choice(vocab.ORDER_STATUSES)
            if self.now - at < 3 * DAY and status == "delivered":
                status = rng.choice(("processing", "shipped"))
            carrier = rng.choice(vocab.CARRIERS)
            tracking = f"{carrier[:3].upper()}{rng.randint(10**9, 10**10 - 1)}"
            payment = rng.choice(("card", "card", "paypal", "klarna", "cash_on_delivery"))
            payload = {
                "number": number,
                "items": items,
                "total": total,
                "currency": "EUR",
                "status": status,
                "payment_method": payment,
                "shipping": {
                    "carrier": carrier,
                    "tracking": tracking,
                    "address": f"{street}, {postal} {city}",
                },
            }
            eid = self._event(
                b,
                cid,
                at,
                "order",
                "web",
                "webshop",
                f"Order {number}: {len(items)} item(s), €{total:.2f} — {status}",
                payload,
                record_id=shop_record,
            )
            b.orders.append((number, cid, at, status, total, eid))
            b.order_records.append(shop_record)
            order_numbers.append(number)
            order_times.append((at, number))
            self._event(
                b,
                cid,
                at + 60,
                "payment",
                "web",
                "webshop",
                f"Payment €{total:.2f} by {payment} for {number}",
                {"order": number, "amount": total, "method": payment},
                record_id=shop_record,
            )
            if status in ("shipped", "delivered", "returned", "refunded"):
                self._event(
                    b,
                    cid,
                    at + DAY,
                    "order_status",
                    "web",
                    "webshop",
                    f"{number} shipped with {carrier} ({tracking})",
                    {
                        "order": number,
                        "status": "shipped",
                        "carrier": carrier,
                        "tracking": tracking,
                    },
                    record_id=shop_record,
                )
            if status in ("delivered", "returned", "refunded"):
                self._event(
                    b,
                    cid,
                    at + 3 * DAY,
                    "order_status",
                    "web",
                    "webshop",
                    f"{number} delivered",
                    {"order": number, "status": "delivered"},
                    record_id=shop_record,
                )
                ltv += total
            if status in ("returned", "refunded"):
                item = items[0]
                self._event(
                    b,
                    cid,
                    at + 9 * DAY,
                    "return",
                    "web",
                    "webshop",
                    f"Return of {item['name']} from {number}",
                    {
                        "order": number,
                        "sku": item["sku"],
                        "reason": rng.choice(("wrong size", "damaged", "not as described")),
                    },
                    record_id=shop_record,
                )
                if status == "refunded":
                    ltv -= item["price"]
                    self._event(
                        b,
                        cid,
                        at + 14 * DAY,
                        "refund",
                        "web",
                        "webshop",
                        f"Refund €{item['price']:.2f} for {number}",
                        {"order": number, "amount": item["price"]},
                        record_id=shop_record,
                    )
            last_order_at = max(last_order_at, at)

        # -- web sessions --
        n_sessions = rng.choices((0, 1, 2, 4, 7), (20, 30, 25, 17, 8))[0]
        if power:
            n_sessions = rng.randint(50, 80)
        for _ in range(n_sessions):
            at = rng.randint(created, self.now - 600)
            steps: list[dict[str, Any]] = []
            t = 0
            for _ in range(rng.randint(1, 5)):
                steps.append({"t": t, "type": "page_view", "page": rng.choice(vocab.PAGES)})
                t += rng.randint(5, 90)
            viewed = rng.sample(vocab.PRODUCTS, rng.randint(0, 3))
            for sku, name, price, _cat in viewed:
                steps.append(
                    {"t": t, "type": "product_view", "sku": sku, "name": name, "price": price}
                )
                self._event(
                    b,
                    cid,
                    at + t,
                    "product_view",
                    "web",
                    "webshop",
                    f"Viewed {name} (€{price:.2f})",
                    {"sku": sku, "name": name, "price": price},
                    record_id=shop_record,
                )
                t += rng.randint(10, 120)
            abandoned = None
            if viewed and rng.random() < 0.35:
                sku, name, price, _cat = viewed[0]
                steps.append({"t": t, "type": "cart_add", "sku": sku, "name": name})
                t += rng.randint(5, 60)
                if rng.random() < 0.6:
                    reached = rng.randint(1, len(vocab.CHECKOUT_STEPS) - 1)
                    for step in vocab.CHECKOUT_STEPS[1 : reached + 1]:
                        steps.append({"t": t, "type": "checkout_step", "step": step})
                        t += rng.randint(10, 120)
                    if vocab.CHECKOUT_STEPS[reached] != "confirmation":
                        abandoned = vocab.CHECKOUT_STEPS[reached]
                        self._event(
                            b,
                            cid,
                            at + t,
                            "checkout_step",
                            "web",
                            "webshop",
                            f"Checkout abandoned at {abandoned} ({name} in cart)",
                            {
                                "step": abandoned,
                                "cart": [{"sku": sku, "name": name, "price": price}],
                            },
                            record_id=shop_record,
                        )
            device = rng.choice(("mobile", "mobile", "desktop", "tablet"))
            summary = f"Web visit on {device}: {len(steps)} steps"
            if abandoned:
                summary += f", stopped at {abandoned}"
            self._event(
                b,
                cid,
                at,
                "web_session",
                "web",
                "webshop",
                summary,
                {
                    "visitor_id": visitor,
                    "device": device,
                    "duration": t,
                    "steps": steps,
                    "abandoned_at": abandoned,
                },
                record_id=shop_record,
            )

        # -- conversations --
        n_conv = rng.choices((0, 1, 2, 3), (45, 30, 17, 8))[0]
        if power:
            n_conv = rng.randint(8, 15)
        open_contact = rng.random() < 0.08
        unhappy = False
        csats: list[int] = []
        for k in range(n_conv + (1 if open_contact else 0)):
            is_open = open_contact and k == n_conv
            channel = rng.choice(CHANNELS)
            intent, subj_it, subj_en, msg_it, msg_en = rng.choice(vocab.INTENTS)
            priority = rng.choices((0, 1, 2, 3), (15, 60, 20, 5))[0]
            recent = False
            if is_open:
                # most open work arrived in the last hours; a tail is days old
                if rng.random() < 0.8:
                    created_at = self.now - min(DAY, 60 + int(rng.expovariate(1 / (4 * HOUR))))
                else:
                    created_at = self.now - rng.randint(DAY, 3 * DAY)
            elif rng.random() < 0.12:
                recent = True  # handled in the last days: the KPIs have a recent past
                created_at = rng.randint(self.now - 3 * DAY, self.now - 8 * HOUR)
            else:
                created_at = rng.randint(created, self.now - 3 * DAY)
            # a contact about an order names the customer's latest order placed in the weeks
            # before it; without one it asks something else (no extra draw)
            placed = [(at, n) for at, n in order_times if 0 < created_at - at <= ORDER_RECENCY]
            order = max(placed)[1] if placed else ""
            if not order and intent in vocab.NO_ORDER_INTENT:
                intent, subj_it, subj_en, msg_it, msg_en = vocab.INTENT_BY_NAME[
                    vocab.NO_ORDER_INTENT[intent]
                ]
            subject = (subj_en if english else subj_it).format(order=order)
            first_msg = (msg_en if english else msg_it).format(order=order)
            if intent == "complaint":
                priority = max(priority, 2)
                unhappy = True
            if channel in PHONE_CHANNELS and not has_phone:
                channel = "email"  # the customer gave no number: they write instead
            sla_due = created_at + SLA_SECONDS[channel]
            self.contact_id += 1
            contact_id = self.contact_id
            author = e164 if channel in PHONE_CHANNELS else writes_from
            msgs: list[tuple[int, str, str | None, str]] = [
                (created_at, "inbound", author, first_msg)
            ]
            assignee = None
            first_response = resolved = csat = None
            status = "resolved"
            if is_open:
                status = rng.choices(("new", "open", "pending"), (60, 30, 10))[0]
                if status != "new":
                    assignee = rng.choice(("giulia", "marco", "sara", "luca", "elena", "demo"))
                if status == "pending":
                    first_response = created_at + rng.randint(60, SLA_SECONDS[channel])
                    msgs.append(
                        (
                            first_response,
                            "outbound",
                            assignee,
                            rng.choice(
                                vocab.AGENT_REPLIES_EN if english else vocab.AGENT_REPLIES_IT
                            ).format(name=first),
                        )
                    )
            else:
                assignee = rng.choice(("giulia", "marco", "sara", "luca", "elena", "demo"))
                first_response = created_at + rng.randint(30, int(SLA_SECONDS[channel] * 1.5))
                msgs.append(
                    (
                        first_response,
                        "outbound",
                        assignee,
                        rng.choice(
                            vocab.AGENT_REPLIES_EN if english else vocab.AGENT_REPLIES_IT
                        ).format(name=first),
                    )
                )
                if rng.random() < 0.5:
                    msgs.append(
                        (
                            first_response + rng.randint(300, DAY),
                            "inbound",
                            author,
                            rng.choice(vocab.CUSTOMER_FOLLOWUPS),
                        )
                    )
                resolved = msgs[-1][0] + rng.randint(300, 2 * DAY)
                if recent:
                    msgs = [m for m in msgs if m[0] < self.now - 120]
                    resolved = min(resolved, self.now - 60)
                if rng.random() < 0.3:
                    csat = rng.choices((1, 2, 3, 4, 5), (8, 7, 15, 35, 35))[0]
                    csats.append(csat)
            last_inbound = max(m[0] for m in msgs if m[1] == "inbound")
            assigned_at = None
            if assignee:  # taken from the queue a little after it arrived
                assigned_at = min(
                    created_at + rng.randint(20, 1200), first_response or self.now, self.now
                )
            b.contacts.append(
                (
                    contact_id,
                    cid,
                    channel,
                    subject,
                    intent,
                    priority,
                    status,
                    created_at,
                    msgs[-1][0],
                    first_response,
                    resolved,
                    sla_due,
                    assignee,
                    assigned_at,
                    last_inbound,
                    csat,
                )
            )
            b.contact_records.append(desk_record)  # its conversation event's, below
            for at, direction, who, body in msgs:
                self.message_id += 1
                b.messages.append((self.message_id, contact_id, direction, channel, who, body, at))
            kind = EVENT_KIND_BY_CHANNEL[channel]
            transcript = [
                {"at": at, "direction": d, "author": w, "body": body} for at, d, w, body in msgs
            ]
            self._event(
                b,
                cid,
                created_at,
                kind,
                channel,
                "helpdesk",
                f"{kind.capitalize()}: {subject}",
                {"subject": subject, "intent": intent, "status": status, "messages": transcript},
                contact_id=contact_id,
                record_id=desk_record,
            )
            if csat is not None and resolved is not None:
                nps = min(10, max(0, csat * 2 + rng.randint(-1, 1)))
                self._event(
                    b,
                    cid,
                    resolved + HOUR,
                    "survey",
                    "email",
                    "helpdesk",
                    f"Survey: CSAT {csat}/5, NPS {nps}",
                    {"csat": csat, "nps": nps, "contact_id": contact_id},
                    contact_id=contact_id,
                    record_id=desk_record,
                )
                if csat <= 2:
                    unhappy = True
            self.summary_counts["contacts"] += 1
            self.summary_counts["messages"] += len(msgs)
            if is_open:
                self.summary_counts["open"] += 1

        # a customer who bought (something kept) and stopped a year ago
        churn = n_orders >= 2 and self.now - last_order_at > 365 * DAY and ltv > 0
        tags = []
        if power:
            tags.append("vip")
        if segment == "business":
            tags.append("b2b")
        if churn:
            tags.append("churn-risk")
        phones = [e164]
        address = {
            "street": street,
            "city": city,
            "region": region,
            "postal_code": postal,
            "country": "IT",
            "source": "crm" if crm_record else "webshop",
        }
        provenance = {
            "first_name": {"source": "crm" if crm_record else records[0][0]},
            "email": {"source": "helpdesk" if new_email else records[0][0]},
        }
        b.customers.append(
            (
                cid,
                first,
                last,
                dumps(emails),
                dumps(phones),
                dumps([address]),
                birth,
                language,
                segment,
                tier,
                dumps(consents),
                round(ltv, 2),
                "EUR",
                dumps(tags),
                dumps({"loyalty_card": f"LC{cid:09d}"} if tier != "bronze" else {}),
                int(churn),
                int(unhappy),
                dumps(provenance),
                created,
                max(created, last_order_at),
                1,
            )
        )
