"""The demo generator: deterministic (seed + `now`), streamed in batches, bounded memory.

Each person exists in one to three source systems (CRM, web shop, support
desk) with the usual mess: phones in different formats, an e-mail changed
in one system only, typos, missing fields, duplicate web-shop accounts.
Around them: orders with items and deliveries, web sessions (some abandoned
at a named checkout step), conversations on every channel, surveys, and an
open queue with SLA due times, some breached, some assigned.

The database is built in a temporary file beside the target and moved into
place at the end, so an interrupted run leaves nothing half-written.
"""

from __future__ import annotations

import json
import os
import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from backends.base import InvalidInput
from backends.demo import vocab
from backends.identity.config import MatchConfig
from backends.identity.features import extract
from backends.identity.normalise import email as normalise_email
from backends.identity.resolver import Incoming, Resolver
from backends.models import utcnow
from backends.sqlite.search import phone_tokens
from backends.sqlite.store import Store

#: Bump when the output changes: benchmark databases are cached by it.
GENERATOR_VERSION = "4"

DAY = 86400
HOUR = 3600

SLA_SECONDS = {"chat": HOUR, "whatsapp": 4 * HOUR, "phone": 2 * HOUR, "sms": 8 * HOUR,
               "email": 24 * HOUR, "web": 24 * HOUR}
EVENT_KIND_BY_CHANNEL = {"email": "email", "chat": "chat", "phone": "call", "whatsapp": "whatsapp",
                         "sms": "sms", "web": "ticket"}
CHANNELS = ("email", "email", "email", "chat", "chat", "whatsapp", "whatsapp", "phone", "sms", "web")


@dataclass
class DemoSummary:
    path: Path
    customers: int = 0
    source_records: int = 0
    events: int = 0
    contacts: int = 0
    open_contacts: int = 0
    messages: int = 0
    seconds: float = 0.0


@dataclass
class _Batch:
    customers: list[tuple[Any, ...]] = field(default_factory=list)
    records: list[tuple[Any, ...]] = field(default_factory=list)
    identities: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)
    orders: list[tuple[Any, ...]] = field(default_factory=list)
    contacts: list[tuple[Any, ...]] = field(default_factory=list)
    messages: list[tuple[Any, ...]] = field(default_factory=list)
    search: list[tuple[Any, ...]] = field(default_factory=list)


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _dumps(value: Any) -> str:
    """Compact JSON; one shared encoder (json.dumps builds one per call with these options)."""
    return _ENCODER.encode(value)


class _Generator:
    def __init__(self, seed: int, now: int) -> None:
        self.rng = random.Random(seed)
        self.now = now
        self.event_id = 0
        self.contact_id = 0
        self.message_id = 0
        self.order_seq = 0
        self.record_id = 0
        self.summary_counts = {"events": 0, "contacts": 0, "open": 0, "messages": 0, "records": 0}
        self.batch_emails: set[str] = set()  # e-mails handed out in the batch being built
        self.email_in_store: Callable[[str], bool] = lambda _e: False

    def _taken(self, email: str) -> bool:
        """Whether another person already has this e-mail (this batch, or the store)."""
        key = normalise_email(email)
        if key in self.batch_emails or self.email_in_store(key):
            return True
        self.batch_emails.add(key)
        return False

    # -- small helpers ------------------------------------------------------

    def _typo(self, name: str) -> str:
        if len(name) < 4:
            return name
        i = self.rng.randrange(1, len(name) - 2)
        return name[:i] + name[i + 1] + name[i] + name[i + 2:]

    def _phone_format(self, national: str, style: int) -> str:
        if style == 0:
            return f"+39 {national[:3]} {national[3:6]} {national[6:]}"
        if style == 1:
            return national
        if style == 2:
            return f"0039 {national[:3]}-{national[3:]}"
        return f"{national[:3]} {national[3:]}"

    def _event(self, b: _Batch, cid: int, at: int, kind: str, channel: str, source: str,
               summary: str, payload: dict[str, Any], contact_id: int | None = None,
               record_id: int | None = None) -> int:
        self.event_id += 1
        b.events.append((cid, at, self.event_id, kind, channel, source, summary,
                         _dumps(payload), contact_id, record_id))
        return self.event_id

    # -- one person -----------------------------------------------------------

    def person(self, cid: int, b: _Batch) -> None:
        rng = self.rng
        female = rng.random() < 0.52
        first = rng.choice(vocab.FIRST_NAMES_F if female else vocab.FIRST_NAMES_M)
        last = rng.choice(vocab.LAST_NAMES)
        english = rng.random() < 0.15
        language = "en" if english else "it"
        city, province, region, cap = rng.choice(vocab.CITIES)
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
                new_email = f"{_ascii(first)}{rng.randint(100, 99999)}@{rng.choice(vocab.EMAIL_DOMAINS)}"
        birth = None
        if rng.random() < 0.7:
            birth = f"{rng.randint(1950, 2004)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        created = self.now - rng.randint(30 * DAY, 3 * 365 * DAY)
        power = rng.random() < 0.005
        segment = "business" if rng.random() < 0.08 else "consumer"
        tier = rng.choices(("bronze", "silver", "gold", "platinum"), (60, 25, 12, 3))[0]
        consents = {"email": rng.random() < 0.6, "sms": rng.random() < 0.3,
                    "whatsapp": rng.random() < 0.4}

        # -- source records --
        in_crm = rng.random() < 0.85
        in_shop = rng.random() < 0.75 or not in_crm
        in_desk = rng.random() < 0.45
        records: list[tuple[str, str, dict[str, Any], int]] = []
        if in_crm:
            fields: dict[str, Any] = {
                "first_name": first, "last_name": last, "email": email,
                "phone": self._phone_format(national, rng.randrange(4)),
                "street": street, "city": city, "postal_code": postal, "region": region,
                "country": "IT", "tier": tier, "language": language,
            }
            if birth:
                fields["birth_date"] = birth
            if rng.random() < 0.1:
                del fields["phone"]
            records.append(("crm", f"CRM-{cid:08d}", fields, created))
        visitor = f"v-{cid:x}{rng.randint(0, 0xffff):04x}"
        if in_shop:
            fields = {
                "first_name": self._typo(first) if rng.random() < 0.06 else first,
                "last_name": last.upper() if rng.random() < 0.1 else last,
                "email": email.upper() if rng.random() < 0.05 else email,
                "phone": self._phone_format(national, rng.randrange(4)),
                "street": street.replace("Via ", "V. ") if rng.random() < 0.2 else street,
                "city": city, "postal_code": postal, "country": "IT", "visitor_id": visitor,
            }
            records.append(("webshop", f"WS-{cid:08d}", fields,
                            min(self.now - DAY, created + rng.randint(0, 90 * DAY))))
            if rng.random() < 0.04:  # a guest checkout: a second account, no phone
                records.append(("webshop", f"WS-G{cid:08d}", {
                    "first_name": first, "last_name": last, "email": email, "city": city,
                }, min(self.now - DAY, created + rng.randint(0, 300 * DAY))))
            if rng.random() < 0.03:  # an old account: surname mistyped, no e-mail or phone
                records.append(("webshop", f"WS-D{cid:08d}", {
                    "first_name": first, "last_name": self._typo(last) if len(last) > 4
                    else last + last[-1], "street": street, "city": city, "postal_code": postal,
                    "country": "IT",
                }, created - rng.randint(30 * DAY, 400 * DAY)))
        if in_desk:
            fields = {
                "name": f"{first} {last}" if rng.random() < 0.7 else f"{first.lower()} {last.lower()}",
                "email": new_email or email,
                "phone": self._phone_format(national, rng.randrange(4)),
            }
            if rng.random() < 0.5:
                fields["whatsapp"] = e164
            records.append(("helpdesk", f"HD-{cid:08d}", fields,
                            min(self.now - DAY, created + rng.randint(0, 400 * DAY))))
        record_ids: dict[str, int] = {}
        for source, source_id, fields, at in records:
            self.record_id += 1
            record_ids.setdefault(source, self.record_id)
            b.records.append((self.record_id, source, source_id, cid, _dumps(fields), at, at))
            mail = str(fields.get("email", "")).strip().lower()
            if mail:
                b.identities.append((self.record_id, "email", mail, fields["email"]))
            if fields.get("phone"):
                b.identities.append((self.record_id, "phone", e164, fields["phone"]))
            if fields.get("whatsapp"):
                b.identities.append((self.record_id, "whatsapp_id", e164, fields["whatsapp"]))
            if fields.get("visitor_id"):
                b.identities.append((self.record_id, "visitor_id", visitor, visitor))
            b.identities.append((self.record_id, "external_id", f"{source}:{source_id}", source_id))
        self.summary_counts["records"] += len(records)
        emails = [new_email, email] if new_email else [email]
        shop_record = record_ids.get("webshop")
        desk_record = record_ids.get("helpdesk")
        crm_record = record_ids.get("crm")

        # -- orders --
        n_orders = rng.choices((0, 1, 2, 3, 5, 8), (25, 30, 20, 12, 9, 4))[0]
        if power:
            n_orders = rng.randint(25, 40)
        order_numbers: list[str] = []
        ltv = 0.0
        last_order_at = 0
        for _ in range(n_orders):
            self.order_seq += 1
            at = rng.randint(created, self.now - HOUR)
            year = datetime.fromtimestamp(at).year
            number = f"VS-{year}-{self.order_seq:07d}"
            items = []
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
            payload = {"number": number, "items": items, "total": total, "currency": "EUR",
                       "status": status, "payment_method": payment,
                       "shipping": {"carrier": carrier, "tracking": tracking,
                                    "address": f"{street}, {postal} {city}"}}
            eid = self._event(b, cid, at, "order", "web", "webshop",
                              f"Order {number}: {len(items)} item(s), €{total:.2f} — {status}",
                              payload, record_id=shop_record)
            b.orders.append((number, cid, at, status, total, eid))
            order_numbers.append(number)
            self._event(b, cid, at + 60, "payment", "web", "webshop",
                        f"Payment €{total:.2f} by {payment} for {number}",
                        {"order": number, "amount": total, "method": payment}, record_id=shop_record)
            if status in ("shipped", "delivered", "returned", "refunded"):
                self._event(b, cid, at + DAY, "order_status", "web", "webshop",
                            f"{number} shipped with {carrier} ({tracking})",
                            {"order": number, "status": "shipped", "carrier": carrier,
                             "tracking": tracking}, record_id=shop_record)
            if status in ("delivered", "returned", "refunded"):
                self._event(b, cid, at + 3 * DAY, "order_status", "web", "webshop",
                            f"{number} delivered", {"order": number, "status": "delivered"},
                            record_id=shop_record)
                ltv += total
            if status in ("returned", "refunded"):
                item = items[0]
                self._event(b, cid, at + 9 * DAY, "return", "web", "webshop",
                            f"Return of {item['name']} from {number}",
                            {"order": number, "sku": item["sku"], "reason":
                             rng.choice(("wrong size", "damaged", "not as described"))},
                            record_id=shop_record)
                if status == "refunded":
                    ltv -= item["price"]
                    self._event(b, cid, at + 14 * DAY, "refund", "web", "webshop",
                                f"Refund €{item['price']:.2f} for {number}",
                                {"order": number, "amount": item["price"]}, record_id=shop_record)
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
                steps.append({"t": t, "type": "product_view", "sku": sku, "name": name,
                              "price": price})
                self._event(b, cid, at + t, "product_view", "web", "webshop",
                            f"Viewed {name} (€{price:.2f})",
                            {"sku": sku, "name": name, "price": price}, record_id=shop_record)
                t += rng.randint(10, 120)
            abandoned = None
            if viewed and rng.random() < 0.35:
                sku, name, price, _cat = viewed[0]
                steps.append({"t": t, "type": "cart_add", "sku": sku, "name": name})
                t += rng.randint(5, 60)
                if rng.random() < 0.6:
                    reached = rng.randint(1, len(vocab.CHECKOUT_STEPS) - 1)
                    for step in vocab.CHECKOUT_STEPS[1:reached + 1]:
                        steps.append({"t": t, "type": "checkout_step", "step": step})
                        t += rng.randint(10, 120)
                    if vocab.CHECKOUT_STEPS[reached] != "confirmation":
                        abandoned = vocab.CHECKOUT_STEPS[reached]
                        self._event(b, cid, at + t, "checkout_step", "web", "webshop",
                                    f"Checkout abandoned at {abandoned} ({name} in cart)",
                                    {"step": abandoned, "cart": [{"sku": sku, "name": name,
                                                                   "price": price}]},
                                    record_id=shop_record)
            device = rng.choice(("mobile", "mobile", "desktop", "tablet"))
            summary = f"Web visit on {device}: {len(steps)} steps"
            if abandoned:
                summary += f", stopped at {abandoned}"
            self._event(b, cid, at, "web_session", "web", "webshop", summary,
                        {"visitor_id": visitor, "device": device, "duration": t, "steps": steps,
                         "abandoned_at": abandoned}, record_id=shop_record)

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
            order = order_numbers[-1] if order_numbers else "—"
            subject = (subj_en if english else subj_it).format(order=order)
            first_msg = (msg_en if english else msg_it).format(order=order)
            priority = rng.choices((0, 1, 2, 3), (15, 60, 20, 5))[0]
            if intent == "complaint":
                priority = max(priority, 2)
                unhappy = True
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
            sla_due = created_at + SLA_SECONDS[channel]
            self.contact_id += 1
            contact_id = self.contact_id
            author = email if channel in ("email", "web") else e164
            msgs = [(created_at, "inbound", author, first_msg)]
            assignee = None
            first_response = resolved = csat = None
            status = "resolved"
            if is_open:
                status = rng.choices(("new", "open", "pending"), (60, 30, 10))[0]
                if status != "new":
                    assignee = rng.choice(("giulia", "marco", "sara", "luca", "elena", "demo"))
                if status == "pending":
                    first_response = created_at + rng.randint(60, SLA_SECONDS[channel])
                    msgs.append((first_response, "outbound", assignee,
                                 rng.choice(vocab.AGENT_REPLIES_EN if english
                                            else vocab.AGENT_REPLIES_IT).format(name=first)))
            else:
                assignee = rng.choice(("giulia", "marco", "sara", "luca", "elena", "demo"))
                first_response = created_at + rng.randint(30, int(SLA_SECONDS[channel] * 1.5))
                msgs.append((first_response, "outbound", assignee,
                             rng.choice(vocab.AGENT_REPLIES_EN if english
                                        else vocab.AGENT_REPLIES_IT).format(name=first)))
                if rng.random() < 0.5:
                    msgs.append((first_response + rng.randint(300, DAY), "inbound", author,
                                 rng.choice(vocab.CUSTOMER_FOLLOWUPS)))
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
                assigned_at = min(created_at + rng.randint(20, 1200), first_response or self.now,
                                  self.now)
            b.contacts.append((contact_id, cid, channel, subject, intent, priority, status,
                               created_at, msgs[-1][0], first_response, resolved, sla_due, assignee,
                               assigned_at, last_inbound, csat))
            for at, direction, who, body in msgs:
                self.message_id += 1
                b.messages.append((self.message_id, contact_id, direction, channel, who, body, at))
            kind = EVENT_KIND_BY_CHANNEL[channel]
            transcript = [{"at": at, "direction": d, "author": w, "body": body}
                          for at, d, w, body in msgs]
            self._event(b, cid, created_at, kind, channel, "helpdesk",
                        f"{kind.capitalize()}: {subject}",
                        {"subject": subject, "intent": intent, "status": status,
                         "messages": transcript}, contact_id=contact_id, record_id=desk_record)
            if csat is not None and resolved is not None:
                nps = min(10, max(0, csat * 2 + rng.randint(-1, 1)))
                self._event(b, cid, resolved + HOUR, "survey", "email", "helpdesk",
                            f"Survey: CSAT {csat}/5, NPS {nps}",
                            {"csat": csat, "nps": nps, "contact_id": contact_id},
                            contact_id=contact_id, record_id=desk_record)
                if csat <= 2:
                    unhappy = True
            self.summary_counts["contacts"] += 1
            self.summary_counts["messages"] += len(msgs)
            if is_open:
                self.summary_counts["open"] += 1

        churn = n_orders >= 2 and self.now - last_order_at > 365 * DAY
        tags = []
        if power:
            tags.append("vip")
        if segment == "business":
            tags.append("b2b")
        if churn:
            tags.append("churn-risk")
        phones = [e164]
        address = {"street": street, "city": city, "region": region, "postal_code": postal,
                   "country": "IT", "source": "crm" if crm_record else "webshop"}
        provenance = {"first_name": {"source": "crm" if crm_record else records[0][0]},
                      "email": {"source": "helpdesk" if new_email else records[0][0]}}
        b.customers.append((cid, first, last, _dumps(emails), _dumps(phones), _dumps([address]),
                            birth, language, segment, tier, _dumps(consents), round(ltv, 2), "EUR",
                            _dumps(tags), _dumps({"loyalty_card": f"LC{cid:09d}"} if tier != "bronze"
                                                 else {}),
                            int(churn), int(unhappy), _dumps(provenance), created,
                            max(created, last_order_at), 1))
        variants = {f"{first} {last}"}
        for _s, _i, f, _a in records:
            if "first_name" in f:
                variants.add(f"{f['first_name']} {f.get('last_name', '')}")
        b.search.append((cid, " ".join(variants), " ".join(emails), phone_tokens(phones),
                         " ".join(order_numbers)))


def _flush(db: Any, b: _Batch, resolver: Resolver) -> None:
    """Write one batch the way real data arrives: source records through import and identity
    resolution (which makes the golden customers), then each person's extra profile columns,
    timeline, orders and contacts attached to the customer their records resolved to."""
    items = []
    for _rid, source, source_id, cid, fields_json, at, _upd in b.records:
        fields = json.loads(fields_json)
        items.append(Incoming(source, source_id, fields, extract(fields, "IT"), at, cid))
    first_new = db.execute("SELECT coalesce(max(id), 0) FROM source_records").fetchone()[0]
    resolver.add_batch(items)
    resolved = {(r[0], r[1]): (r[2], r[3]) for r in db.execute(
        "SELECT source, source_id, id, customer_id FROM source_records WHERE id > ?", (first_new,))}
    record_map: dict[int, tuple[int, int]] = {}  # generator record id -> (record id, customer)
    person_customer: dict[int, int] = {}
    for rid, source, source_id, cid, *_rest in b.records:
        new_rid, customer = resolved[(source, source_id)]
        record_map[rid] = (new_rid, customer)
        person_customer.setdefault(cid, customer)
    db.executemany(
        "UPDATE customers SET segment = ?, tier = coalesce(nullif(tier, ''), ?), consents = ?, "
        "lifetime_value = lifetime_value + ?, currency = ?, tags = ?, attributes = ?, "
        "churn_risk = ?, unhappy = ?, created_at = min(created_at, ?), updated_at = ? WHERE id = ?",
        [(c[8], c[9], c[10], c[11], c[12], c[13], c[14], c[15], c[16], c[18], c[19],
          person_customer[c[0]]) for c in b.customers])

    def owner(cid: int, record_id: int | None) -> tuple[int, int | None]:
        if record_id is not None and record_id in record_map:
            new_rid, customer = record_map[record_id]
            return customer, new_rid
        return person_customer[cid], None

    events, event_customer, contact_customer = [], {}, {}
    for e in b.events:
        customer, new_rid = owner(e[0], e[9])
        events.append((customer, *e[1:9], new_rid))
        event_customer[e[2]] = customer
        if e[8] is not None:
            contact_customer.setdefault(e[8], customer)
    db.executemany("INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
                   "contact_id, record_id) VALUES (?,?,?,?,?,?,?,?,?,?)", events)
    orders = [(o[0], event_customer.get(o[5], person_customer[o[1]]), *o[2:]) for o in b.orders]
    db.executemany("INSERT INTO orders(number, customer_id, at, status, total, event_id) "
                   "VALUES (?,?,?,?,?,?)", orders)
    db.executemany("INSERT INTO contacts(id, customer_id, channel, subject, intent, priority, "
                   "status, created_at, updated_at, first_response_at, resolved_at, sla_due_at, "
                   "assignee, assigned_at, last_inbound_at, csat) "
                   "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   [(c[0], contact_customer.get(c[0], person_customer[c[1]]), *c[2:])
                    for c in b.contacts])
    db.executemany("INSERT INTO messages(id, contact_id, direction, channel, author, body, at) "
                   "VALUES (?,?,?,?,?,?,?)", b.messages)
    numbers: dict[int, list[str]] = {}
    for number, customer, *_r in orders:
        numbers.setdefault(customer, []).append(number)
    db.executemany("UPDATE customer_search SET orders = trim(orders || ' ' || ?) WHERE rowid = ?",
                   [(" ".join(n), customer) for customer, n in numbers.items()])


def generate(
    path: str | Path,
    customers: int = 5000,
    *,
    seed: int = 42,
    now: datetime | None = None,
    force: bool = False,
    progress: Callable[[int], None] | None = None,
    batch_size: int = 2000,
) -> DemoSummary:
    """Write a new demo database at `path` with `customers` people.

    Args:
        progress: called with the number of customers written so far.
        force: replace an existing file (otherwise InvalidInput).
    Raises:
        InvalidInput: bad arguments, or the file exists without `force`.
        Unavailable: the file cannot be written.
    """
    import time

    if customers < 1:
        raise InvalidInput("--customers must be at least 1")
    target = Path(path).expanduser()
    if target.exists() and not force:
        raise InvalidInput(f"{target} already exists; pass --force to replace it")
    started = time.perf_counter()
    now_ts = int((now or utcnow()).timestamp())
    tmp = target.with_name(target.name + ".building")
    for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
        leftover.unlink(missing_ok=True)
    store = Store(tmp, create=True)
    gen = _Generator(seed, now_ts)
    resolver: Resolver | None = None
    try:
        db = store.conn
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        db.execute("PRAGMA cache_size = -64000")
        with store.write() as w:
            w.executemany("INSERT INTO agents(name, display_name, role, created_at) VALUES (?,?,?,?)",
                          [(*a, now_ts) for a in vocab.AGENTS])
            w.executemany("INSERT INTO templates(name, channel, language, whatsapp_approved, body) "
                          "VALUES (?,?,?,?,?)", vocab.TEMPLATES)
        resolver = Resolver(db, MatchConfig(), now_ts, actor="demo", spare_ids_from=customers)
        gen.email_in_store = lambda key: db.execute(
            "SELECT 1 FROM identities WHERE kind = 'email' AND value = ? LIMIT 1", (key,)
        ).fetchone() is not None
        done = 0
        while done < customers:
            b = _Batch()
            gen.batch_emails = set()
            upto = min(customers, done + batch_size)
            for cid in range(done + 1, upto + 1):
                gen.person(cid, b)
            with store.write() as w:
                _flush(w, b, resolver)
            done = upto
            if progress is not None:
                progress(done)
        with store.write() as w:
            w.execute("INSERT INTO customer_search(customer_search) VALUES ('optimize')")
        db.execute("ANALYZE")
        db.execute("PRAGMA journal_mode = WAL")
    except BaseException:
        store.close()
        tmp.unlink(missing_ok=True)
        raise
    store.close()
    os.replace(tmp, target)
    for stale in (Path(f"{target}-wal"), Path(f"{target}-shm")):
        stale.unlink(missing_ok=True)
    c = gen.summary_counts
    return DemoSummary(target, customers, c["records"], gen.event_id, c["contacts"], c["open"],
                       c["messages"], time.perf_counter() - started)
