"""The API's route table: one line per endpoint, shared by the server, the client and OpenAPI.

An endpoint names a Backend contract method; its parameters and result type
come from that method's signature. Path parameters are the `{names}` in the
path; the others travel in the query string (GET) or a JSON object body (any
other method). A model parameter of a GET (the queue's `QueueQuery`) is
flattened into its fields. Every non-GET endpoint is a write: supervisors get
403 on all of them. Adding a contract method to the API is one line here.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from dataclasses import dataclass
from typing import Any

import msgspec

from backends.base import Backend
from backends.models import Role

API_PREFIX = "/api/v1"
_PATH_PARAM = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of an endpoint."""

    name: str
    type: Any
    where: str  # path, query or body
    required: bool
    default: Any = None
    group: str | None = None  # the model parameter this query field belongs to
    doc: str = ""


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One route: HTTP method, path under /api/v1, and the contract method it calls."""

    method: str
    path: str
    call: str
    summary: str = ""
    roles: frozenset[Role] = frozenset(Role)  # who may call it at all
    extra: tuple[Param, ...] = ()  # parameters the contract method does not have
    raw_body: tuple[str, ...] = ()  # media types of a body that is a file, not a JSON object
    public: bool = False  # a read anyone may make without a token (as a read-only grant)

    @property
    def write(self) -> bool:
        return self.method != "GET"

    @property
    def url_path(self) -> str:
        return API_PREFIX + self.path

    @property
    def operation_id(self) -> str:
        return self.call.replace(".", "_")

    def params(self) -> tuple[Param, ...]:
        return _params(self)

    def returns(self) -> Any:
        return contract_hints(self.call).get("return", Any)


@functools.cache
def contract_hints(name: str) -> dict[str, Any]:
    fn = getattr(Backend, name, None)
    if fn is None:
        return {}
    return typing.get_type_hints(fn)


@functools.cache
def _params(ep: Endpoint) -> tuple[Param, ...]:
    path_names = set(_PATH_PARAM.findall(ep.path))
    out: list[Param] = []
    fn = getattr(Backend, ep.call, None)
    if fn is not None and not ep.raw_body:  # a file upload's parameters are all `extra`
        hints = contract_hints(ep.call)
        for p in list(inspect.signature(fn).parameters.values())[1:]:
            tp = hints.get(p.name, Any)
            required = p.default is inspect.Parameter.empty
            default = None if required else p.default
            if p.name in path_names:
                out.append(Param(p.name, tp, "path", True))
            elif ep.method == "GET" and isinstance(tp, type) and issubclass(tp, msgspec.Struct):
                for f in msgspec.structs.fields(tp):
                    fdefault = None if f.default is msgspec.NODEFAULT else f.default
                    out.append(Param(f.name, f.type, "query", False, fdefault, p.name))
            else:
                out.append(
                    Param(p.name, tp, "query" if ep.method == "GET" else "body", required, default)
                )
    out.extend(ep.extra)
    return tuple(out)


_ADMIN = frozenset({Role.ADMIN})
_WRITERS = frozenset({Role.OPERATOR, Role.ADMIN})

#: Every endpoint of the API, each calling the contract method it names.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("GET", "/me", "whoami", "The agent this token acts as, with its role."),
    Endpoint("GET", "/agents", "agents", "Every agent, sorted by name."),
    Endpoint("GET", "/customers", "search_customers", "Type-ahead customer search."),
    Endpoint("GET", "/customers/{customer_id}", "get_customer", "A golden customer profile."),
    Endpoint("GET", "/customers/{customer_id}/facts", "customer_facts", "A customer's key facts."),
    Endpoint("GET", "/customers/{customer_id}/timeline", "timeline", "A page of the timeline."),
    Endpoint(
        "GET",
        "/customers/{customer_id}/view",
        "customer_view",
        "Profile, key facts and the newest timeline page in one request.",
    ),
    Endpoint("GET", "/events/{event_id}", "get_event", "One timeline event."),
    Endpoint("GET", "/queue", "queue", "A window of the contact queue."),
    Endpoint("GET", "/queue/count", "queue_count", "How many contacts match the filters."),
    Endpoint("GET", "/contacts/{contact_id}", "get_contact", "A contact with its messages."),
    Endpoint("GET", "/templates", "templates", "Canned reply templates."),
    Endpoint("GET", "/store", "store_id", "The store's own id (a UUID)."),
    Endpoint(
        "GET",
        "/changes",
        "changes",
        "The change feed; long-polls up to `wait` seconds.",
        extra=(
            Param(
                "wait",
                float,
                "query",
                False,
                0.0,
                doc="Hold the request up to this many seconds (max 30) until a change.",
            ),
        ),
    ),
    Endpoint("GET", "/stats", "stats", "Supervisor KPIs over a window."),
    Endpoint("GET", "/stats/at-risk", "at_risk", "Contacts whose SLA falls due soon."),
    Endpoint("GET", "/stats/agents", "agent_load", "Every agent's open work and output."),
    Endpoint("POST", "/contacts/{contact_id}/claim", "claim", "Claim a contact (atomic)."),
    Endpoint("POST", "/contacts/{contact_id}/release", "release", "Give a contact back."),
    Endpoint("POST", "/contacts/{contact_id}/assign", "assign", "Assign a contact to an agent."),
    Endpoint("POST", "/contacts/{contact_id}/transfer", "transfer", "Transfer a contact."),
    Endpoint("PUT", "/contacts/{contact_id}/status", "set_status", "Set a contact's status."),
    Endpoint("PUT", "/contacts/{contact_id}/priority", "set_priority", "Set a priority."),
    Endpoint("POST", "/contacts/{contact_id}/snooze", "snooze", "Snooze a contact."),
    Endpoint("POST", "/contacts/{contact_id}/replies", "reply", "Reply to the customer."),
    Endpoint("POST", "/contacts/{contact_id}/notes", "add_note", "A private note on a contact."),
    Endpoint(
        "POST",
        "/messages/{message_id}/retry",
        "retry_message",
        "Send a failed reply again (back to queued).",
    ),
    Endpoint("POST", "/customers/{customer_id}/notes", "add_customer_note", "A customer note."),
    Endpoint("PATCH", "/customers/{customer_id}/profile", "edit_profile", "Correct a field."),
    Endpoint(
        "PUT",
        "/customers/{customer_id}/consents/{channel}",
        "set_consent",
        "Record a consent given or withdrawn on one channel.",
        roles=_WRITERS,
    ),
    # -- templates (admins manage them) --
    Endpoint("POST", "/templates", "add_template", "Add a reply template.", roles=_ADMIN),
    Endpoint("PATCH", "/templates/{name}", "edit_template", "Change a template.", roles=_ADMIN),
    Endpoint(
        "POST",
        "/templates/{name}/approve",
        "approve_template",
        "Mark a template approved by the WhatsApp provider.",
        roles=_ADMIN,
    ),
    Endpoint(
        "POST", "/templates/{name}/retire", "retire_template", "Retire a template.", roles=_ADMIN
    ),
    Endpoint(
        "POST",
        "/inbound",
        "deliver_inbound",
        "Deliver a customer's inbound message.",
        roles=_WRITERS,
    ),
    # -- screen pop, telephony, knowledge base --
    Endpoint(
        "GET",
        "/lookup",
        "lookup",
        "Screen pop: who a phone, e-mail, order number or name is, with tier, flags, open "
        "contacts, last order and an unfinished checkout.",
    ),
    Endpoint(
        "POST",
        "/calls",
        "record_call",
        "A telephony event (ringing, answered, ended): opens or continues a phone contact "
        "and pops the customer on the console of the agent it is offered to.",
        roles=_WRITERS,
    ),
    Endpoint("GET", "/contacts/{contact_id}/calls", "calls", "A contact's calls, newest first."),
    Endpoint(
        "POST",
        "/customers/{customer_id}/caller",
        "name_caller",
        "Quick create: name a new caller (and add an e-mail).",
    ),
    Endpoint("POST", "/kb/articles", "kb_import", "Store knowledge-base articles.", roles=_WRITERS),
    Endpoint("GET", "/kb/articles", "kb_articles", "Every knowledge-base article."),
    Endpoint("GET", "/kb/articles/{article_id}", "kb_article", "One knowledge-base article."),
    Endpoint(
        "GET",
        "/kb/search",
        "kb_search",
        "Search the knowledge base (full text, per language). Public: no token needed, "
        "for a website's FAQ or a chatbot.",
        public=True,
    ),
    Endpoint(
        "POST",
        "/kb/articles/{article_id}/uses",
        "kb_use",
        "Record an article's answer or link inserted into a reply on a contact.",
    ),
    Endpoint("GET", "/kb/usage", "kb_usage", "Knowledge-base KPIs over a window."),
    # -- identity resolution --
    Endpoint("GET", "/identity/suggestions", "identity_suggestions", "Possible duplicates."),
    Endpoint("GET", "/identity/model", "identity_model", "The match model's levels and weights."),
    Endpoint("POST", "/identity/model", "train_identity_model", "Train a new match model."),
    Endpoint(
        "POST",
        "/identity/suggestions/{suggestion_id}/reject",
        "reject_suggestion",
        "Mark a suggestion wrong.",
    ),
    Endpoint("GET", "/identity/links", "record_links", "Source record -> customer links."),
    Endpoint(
        "GET",
        "/customers/{customer_id}/explanation",
        "explain_customer",
        "Which records and links made a customer.",
    ),
    Endpoint(
        "GET",
        "/customers/{customer_id}/provenance",
        "provenance",
        "Where each profile value came from.",
    ),
    Endpoint("POST", "/customers/{keep}/merge", "merge_customers", "Merge another customer in."),
    Endpoint(
        "POST",
        "/customers/{customer_id}/split",
        "split_customer",
        "Move source records into a customer of their own.",
    ),
    # -- agents, presence, routing and intents --
    Endpoint("POST", "/agents", "add_agent", "Register an agent (admins).", roles=_ADMIN),
    Endpoint(
        "PATCH",
        "/agents/{name}",
        "edit_agent",
        "Change an agent: name, role, skills, capacity (admins).",
        roles=_ADMIN,
    ),
    Endpoint(
        "POST",
        "/agents/{name}/disable",
        "disable_agent",
        "Disable (or enable) an agent (admins).",
        roles=_ADMIN,
    ),
    Endpoint(
        "PUT",
        "/presence",
        "set_presence",
        "Set my presence (an admin may set another agent's).",
        roles=_WRITERS,
    ),
    Endpoint(
        "GET",
        "/routing/agents",
        "agent_states",
        "Every operator's presence, load, capacity and skills now.",
    ),
    Endpoint(
        "POST",
        "/routing/run",
        "route_waiting",
        "Offer waiting contacts to available operators.",
        roles=_WRITERS,
    ),
    Endpoint("GET", "/routing/rules", "routing_rules", "The routing rules in effect (TOML)."),
    Endpoint(
        "PUT", "/routing/rules", "set_routing_rules", "Replace the routing rules.", roles=_ADMIN
    ),
    Endpoint(
        "PUT",
        "/contacts/{contact_id}/intent",
        "set_intent",
        "Correct a contact's intent (training data).",
    ),
    Endpoint("GET", "/intents/classify", "classify", "The intent and language of a text."),
    Endpoint(
        "POST", "/intents/train", "train_intents", "Train the intent model (admins).", roles=_ADMIN
    ),
    Endpoint("GET", "/intents/report", "intent_report", "The report of the model in use."),
    # -- administration (admins only) --
    Endpoint("GET", "/tokens", "tokens", "Every API token (never the secret).", roles=_ADMIN),
    Endpoint(
        "POST", "/tokens", "create_token", "Create a token; the answer shows it once.", roles=_ADMIN
    ),
    Endpoint("DELETE", "/tokens/{name}", "revoke_token", "Revoke a token by name.", roles=_ADMIN),
    Endpoint(
        "GET", "/audit", "audit_log", "The audit trail, newest first (cursor paging).", roles=_ADMIN
    ),
    Endpoint(
        "GET", "/audit/verify", "verify_audit", "Walk the audit trail's hash chain.", roles=_ADMIN
    ),
    Endpoint(
        "GET",
        "/customers/{customer_id}/export",
        "export_customer",
        "Everything held on one person (GDPR access), with a summary.",
        roles=_ADMIN,
    ),
    Endpoint(
        "POST",
        "/customers/{customer_id}/erase",
        "erase_customer",
        "Anonymise one person everywhere (GDPR erasure); refused under a legal hold.",
        roles=_ADMIN,
    ),
    Endpoint(
        "GET",
        "/customers/{customer_id}/legal-hold",
        "legal_hold",
        "Whether a customer is under a legal hold.",
        roles=_ADMIN,
    ),
    Endpoint(
        "PUT",
        "/customers/{customer_id}/legal-hold",
        "set_legal_hold",
        "Set or lift a customer's legal hold.",
        roles=_ADMIN,
    ),
    Endpoint(
        "POST",
        "/imports",
        "import_file",
        "Import a file of one source system (the request body, streamed): source records "
        "and identity resolution, as `vista import`. The answer is the import report.",
        roles=_ADMIN,
        raw_body=("text/csv", "application/x-ndjson", "application/json"),
        extra=(
            Param("source", str, "query", True, doc="The source system: crm, webshop..."),
            Param("kind", str, "query", False, "customers", doc="customers or events."),
            Param(
                "format",
                str | None,
                "query",
                False,
                doc="csv, jsonl or json (default: from the Content-Type).",
            ),
            Param("id_column", str | None, "query", False, doc="The record id column."),
            Param("default_region", str, "query", False, "IT", doc="For phones without +CC."),
            Param(
                "encoding",
                str | None,
                "query",
                False,
                doc="The file's text encoding, e.g. cp1252 (default: the mapping's, else UTF-8).",
            ),
            Param("strict", bool, "query", False, False, doc="All or nothing."),
            Param("mapping", str | None, "query", False, doc="A mapping file's TOML text."),
        ),
    ),
)

#: Contract methods that are not endpoints on purpose: the server verifies its own tokens,
#: a store file is inspected, kept small and its outbox dispatched where it lies.
NOT_ROUTED: frozenset[str] = frozenset(
    {
        "close",
        "wait_changes",  # the `changes` route with its `wait` parameter
        "verify_token",
        "store_info",
        "check_store",
        "outbox",
        "housekeeping",
        "housekeeping_due",
        "answer_once",  # a server's own bookkeeping of idempotency keys in its store
    }
)


def by_call() -> dict[str, Endpoint]:
    """Endpoints keyed by the contract method they call."""
    return {ep.call: ep for ep in ENDPOINTS}


def contract_methods() -> tuple[str, ...]:
    """Every public method of the Backend contract that carries data."""
    names = []
    for name, member in inspect.getmembers(Backend, predicate=inspect.isfunction):
        if name.startswith("_") or name in NOT_ROUTED:
            continue
        names.append(name)
    return tuple(sorted(names))


def uncovered() -> tuple[str, ...]:
    """Contract methods without an endpoint (should be empty)."""
    routed = by_call()
    return tuple(n for n in contract_methods() if n not in routed)
