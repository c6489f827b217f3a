"""A tiny hand-built store for the supervisor KPI tests; the expected answers are worked out
by hand in tests/unit/test_stats_kpis.py (times are minutes before NOW, a whole hour).

    id channel  prio   status   created assigned 1st reply resolved  SLA due  assignee
    1  email    normal resolved   -300    -290     -280     -200      -240    giulia
    2  chat     high   resolved   -150    -140      -60      -30       -90    marco
    3  phone    urgent open       -100     -70       -        -        -10    giulia
    4  whatsapp normal new         -20      -        -        -        +10    -
    5  sms      low    resolved   -400      -        -       -380     -100    -
    6  email    normal pending   -2000   -1990     -100       -      -1000    marco
    7  chat     high   resolved  -3000   -2990    -2980      -50     -2900    sara
    8  web      normal open        -30     -25       -        -       +100    giulia
    9  email    normal new       -5000      -        -        -      -3560    -
    10 email    high   snoozed    -500    -495       -        -        +20    giulia

Surveys (events of kind survey): -190 csat 5 nps 10 (contact 1); -20 csat 2 nps 3 (2);
-40 csat 4 nps 8 (7); -2000 csat 1 nps 0 (outside the 24 h window); -10 csat "5" (a string)
nps 11 (both invalid, ignored); -5 a payload that is not JSON (ignored).
"""

from __future__ import annotations

import json
from pathlib import Path

from backends.sqlite.store import Store
from tests.conftest import NOW

T = int(NOW.timestamp())
M = 60

# id, customer, channel, priority, status, created, assigned, first reply, resolved, due, assignee
CONTACTS: tuple[tuple[object, ...], ...] = (
    (1, 1, "email", 1, "resolved", -300, -290, -280, -200, -240, "giulia"),
    (2, 2, "chat", 2, "resolved", -150, -140, -60, -30, -90, "marco"),
    (3, 3, "phone", 3, "open", -100, -70, None, None, -10, "giulia"),
    (4, 2, "whatsapp", 1, "new", -20, None, None, None, 10, None),
    (5, 1, "sms", 0, "resolved", -400, None, None, -380, -100, None),
    (6, 3, "email", 1, "pending", -2000, -1990, -100, None, -1000, "marco"),
    (7, 1, "chat", 2, "resolved", -3000, -2990, -2980, -50, -2900, "sara"),
    (8, 2, "web", 1, "open", -30, -25, None, None, 100, "giulia"),
    (9, 3, "email", 1, "new", -5000, None, None, None, -3560, None),
    (10, 1, "email", 2, "snoozed", -500, -495, None, None, 20, "giulia"),
)
SURVEYS: tuple[tuple[int, int, int, object], ...] = (
    (101, 1, -190, {"csat": 5, "nps": 10}),
    (102, 2, -20, {"csat": 2, "nps": 3}),
    (103, 7, -40, {"csat": 4, "nps": 8}),
    (104, 7, -2000, {"csat": 1, "nps": 0}),
    (105, 1, -10, {"csat": "5", "nps": 11}),
    (106, 1, -5, "{oops"),  # not JSON at all: stored, and ignored by the KPIs
)
CUSTOMERS = (
    (1, "Lena", "Ferrara"),
    (2, "[bold red]Mallory[/]", "\x1b[31mRed\u202eevil"),  # hostile text stays literal
    (3, "Marco", "Rossi"),
)
SUBJECTS = {4: "Where is [b]my[/b] order 2024-77?", 10: "Refund for order 2024-55"}


def _at(minutes: int | None) -> int | None:
    return None if minutes is None else T + minutes * M


def build(path: Path) -> Path:
    """Create the store at `path` (schema from the migrations) with the rows above."""
    store = Store(path, create=True)
    with store.write() as db:
        db.executemany(
            "INSERT INTO agents(name, display_name, role, created_at) VALUES (?,?,?,?)",
            [
                ("giulia", "Giulia Neri", "operator", T),
                ("marco", "Marco Villa", "operator", T),
                ("sara", "Sara Fontana", "operator", T),
                ("anna", "Anna Galli", "supervisor", T),
            ],
        )
        db.executemany(
            "INSERT INTO customers(id, first_name, last_name, created_at, updated_at) "
            "VALUES (?,?,?,?,?)",
            [(cid, first, last, T - 86400 * 30, T - 86400 * 30) for cid, first, last in CUSTOMERS],
        )
        for (
            cid,
            cust,
            channel,
            prio,
            status,
            created,
            assigned,
            first,
            resolved,
            due,
            who,
        ) in CONTACTS:
            db.execute(
                "INSERT INTO contacts(id, customer_id, channel, subject, priority, status, "
                "created_at, updated_at, assigned_at, first_response_at, resolved_at, sla_due_at, "
                "assignee) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    cid,
                    cust,
                    channel,
                    SUBJECTS.get(int(cid), f"Subject {cid}"),
                    prio,
                    status,
                    _at(created),
                    _at(created),
                    _at(assigned),
                    _at(first),
                    _at(resolved),
                    _at(due),
                    who,
                ),
            )
        for eid, contact_id, minutes, payload in SURVEYS:
            customer = next(c[1] for c in CONTACTS if c[0] == contact_id)
            db.execute(
                "INSERT INTO events(customer_id, at, id, kind, channel, source, summary, payload, "
                "contact_id) VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    customer,
                    _at(minutes),
                    eid,
                    "survey",
                    "email",
                    "helpdesk",
                    "Survey",
                    payload if isinstance(payload, str) else json.dumps(payload),
                    contact_id,
                ),
            )
    store.close()
    return path
