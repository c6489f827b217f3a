"""The contract's agents, presence, routing and intents (its ROUTING part), the same for
every store: who may act, what is checked, what the change feed and the audit trail record.

A store's backend mixes `AgentFlow` in through its own `AgentOps` (backends/sqlite/agents.py,
backends/postgres/agents.py), which supplies the small SQL functions declared below (an
agent's row, the writes, the training set, the rules' setting); what an admin may write, a
row's model and the choice of an operator are backends.routing's. No SQL here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from backends import limits, records
from backends.audit_chain import Actor, diff
from backends.base import Conflict, Forbidden, InvalidInput
from backends.models import (
    Agent,
    AgentState,
    ChangeEntity,
    Channel,
    Contact,
    IntentGuess,
    IntentReport,
    Presence,
    Role,
)
from backends.routing import agents as pure
from backends.routing import rules as routing_rules


class AgentFlow:
    """Agents' administration, presence, routing and intents over a store's SQL."""

    store: Any
    clock: Callable[[], datetime]
    _trail: Any  # the store's audit trail module (backends.governance.Trail)
    #: Whether routing after an agent comes online takes a transaction of its own (a store
    #: whose routing locks every candidate's row in name order cannot hold one row first).
    _ROUTE_APART = False

    if TYPE_CHECKING:  # provided by the store's backend

        def whoami(self) -> Agent: ...

        def _writer(self) -> Agent: ...

        def _admin(self, doing: str) -> Agent: ...

        def actor(self, me: Agent | None = None) -> Actor: ...

        def _log(
            self, db: Any, now: int, entity: ChangeEntity, entity_id: int, action: str, actor: str
        ) -> None: ...

    # -- what a store supplies: its SQL, in the caller's transaction ----------------------

    def _agent_row(self, db: Any, name: str, *, lock: bool = False) -> Any:
        """An agent's row (`lock`: held until the transaction ends); NotFound naming the
        enabled agents when nobody has `name`."""
        raise NotImplementedError

    def _has_admin(self, db: Any) -> bool:
        """Whether an enabled admin exists."""
        raise NotImplementedError

    def _insert_agent(self, db: Any, new: pure.NewAgent, now: int) -> bool:
        """Add an agent; False when the name is taken."""
        raise NotImplementedError

    def _update_agent(self, db: Any, name: str, values: tuple[str, str, str, str]) -> None:
        """Set an agent's display name, role, skills and capacity (JSON)."""
        raise NotImplementedError

    def _set_disabled(self, db: Any, name: str, disabled: bool, now: int) -> None:
        """Disable (and take offline) or enable an agent."""
        raise NotImplementedError

    def _set_presence(self, db: Any, name: str, presence: Presence, now: int) -> None:
        """An agent's presence (its time kept when unchanged) and last sign of life."""
        raise NotImplementedError

    def _state_rows(self, db: Any, name: str | None = None) -> list[Any]:
        """The rows `backends.routing.agents.state` reads: of `name`, or of every enabled
        non-supervisor in name order."""
        raise NotImplementedError

    def _held(self, db: Any, names: tuple[str, ...] | None = None) -> dict[str, dict[str, int]]:
        """Contacts held per agent and channel (of `names`, or of everyone)."""
        raise NotImplementedError

    def _route_waiting(self, db: Any, now: int, actor: str, limit: int) -> list[int]:
        """Offer up to `limit` waiting contacts to the operators with room; the ids given."""
        raise NotImplementedError

    def _contact(self, db: Any, contact_id: int, *, lock: bool = False) -> Contact:
        """A contact (`lock`: its row held until the transaction ends)."""
        raise NotImplementedError

    def _set_intent(self, db: Any, contact_id: int, intent: str, now: int) -> None:
        """A contact's intent, as an agent set it (its version bumped)."""
        raise NotImplementedError

    def _current_rules(self, db: Any) -> routing_rules.RoutingRules:
        """The routing rules in effect."""
        raise NotImplementedError

    def _guess(self, db: Any, text: str) -> IntentGuess:
        """The intent and language of `text`, with this store's model and rules."""
        raise NotImplementedError

    def _training_rows(self, db: Any, limit: int) -> list[Any]:
        """The newest labelled contacts (intent, subject, first inbound body)."""
        raise NotImplementedError

    def _save_model(self, db: Any, now: int, by: str, report: str, model: bytes) -> None:
        """Keep a trained model and its report (JSON), and only the newest three."""
        raise NotImplementedError

    def _model_report(self, db: Any) -> str | None:
        """The newest model's report (JSON), or None."""
        raise NotImplementedError

    def _save_rules(self, db: Any, text: str | None, now: int, by: str) -> None:
        """Store the routing rules' text; None: back to the defaults."""
        raise NotImplementedError

    # -- the flow -----------------------------------------------------------------------

    def _audit(
        self,
        db: Any,
        me: Agent,
        now: int,
        action: str,
        object_type: str,
        object_id: object,
        changes: dict[str, list[Any]],
        customer_id: int | None = None,
    ) -> None:
        """The write's audit entry (last in its transaction: the chain's lock)."""
        self._trail.record(
            db,
            self.actor(me),
            now,
            action,
            object_type,
            object_id,
            customer_id=customer_id,
            changes=changes,
        )

    def _log_agent(self, db: Any, now: int, action: str, name: str, actor: str) -> None:
        self._log(db, now, ChangeEntity.AGENT, 0, f"{action}:{name}", actor)

    # -- administration -------------------------------------------------------------

    def _manager(self, db: Any, doing: str) -> Agent:
        """The acting admin; on a store without any admin, its owner (bootstrap)."""
        me = self._writer()
        if me.role is Role.ADMIN:
            return me
        if self._has_admin(db):
            raise Forbidden(f"{me.name} is a {me.role.value}: only an admin may {doing}")
        return me

    def add_agent(
        self,
        name: str,
        display_name: str = "",
        role: Role = Role.OPERATOR,
        *,
        intents: tuple[str, ...] = (),
        languages: tuple[str, ...] = (),
        channels: tuple[Channel, ...] = (),
        capacity: dict[str, int] | None = None,
    ) -> Agent:
        self._writer()
        new = pure.check_new(name, display_name, role, intents, languages, channels, capacity)
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            me = self._manager(db, "add agents")
            if not self._insert_agent(db, new, now):
                raise Conflict(
                    f"an agent named {new.name} exists (`vista agents edit` changes one)"
                )
            self._log_agent(db, now, "agent-added", new.name, me.name)
            after = self._agent_row(db, new.name)
            self._audit(db, me, now, "agent-add", "agent", new.name, diff({}, dict(after)))
            return pure.agent(after)

    def edit_agent(
        self,
        name: str,
        *,
        display_name: str | None = None,
        role: Role | None = None,
        intents: tuple[str, ...] | None = None,
        languages: tuple[str, ...] | None = None,
        channels: tuple[Channel, ...] | None = None,
        capacity: dict[str, int] | None = None,
    ) -> Agent:
        self._writer()
        if role is not None:
            role = pure.check_role(role)
        if display_name is not None:
            limits.check_fields({"name": display_name})
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            me = self._manager(db, "change agents")
            row = self._agent_row(db, name, lock=True)
            skills = pure.skills(intents, languages, channels, pure.json_object(row["skills"]))
            own = pure.json_object(row["capacity"]) if capacity is None else pure.capacity(capacity)
            values = (
                row["display_name"] if not display_name else display_name.strip(),
                row["role"] if role is None else role.value,
                json.dumps(skills),
                json.dumps(own),
            )
            self._update_agent(db, name, values)
            self._log_agent(db, now, "agent-edited", name, me.name)
            after = self._agent_row(db, name)
            self._audit(db, me, now, "agent-edit", "agent", name, diff(dict(row), dict(after)))
            return pure.agent(after)

    def disable_agent(self, name: str, *, disabled: bool = True) -> Agent:
        self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            me = self._manager(db, "disable agents")
            row = self._agent_row(db, name, lock=True)
            if disabled and name == me.name:
                raise Forbidden("you cannot disable yourself (another admin can)")
            self._set_disabled(db, name, disabled, now)
            action = "agent-disabled" if disabled else "agent-enabled"
            self._log_agent(db, now, action, name, me.name)
            after = self._agent_row(db, name)
            verb = "agent-disable" if disabled else "agent-enable"
            self._audit(db, me, now, verb, "agent", name, diff(dict(row), dict(after)))
            return pure.agent(after)

    # -- presence and routing -----------------------------------------------------------

    def set_presence(self, presence: Presence, agent: str | None = None) -> AgentState:
        presence = pure.check_presence(presence)
        me = self._writer()
        name = me.name if agent is None else agent
        if name != me.name and me.role is not Role.ADMIN:
            raise Forbidden(
                f"{me.name} is a {me.role.value}: only an admin sets another's presence"
            )
        now = records.to_ts(self.clock())
        online = presence is Presence.ONLINE
        with self.store.write() as db:
            before = self._agent_row(db, name, lock=True)["presence"]
            self._set_presence(db, name, presence, now)
            if before != presence.value:  # a console's "still here" changes nothing to log
                self._log_agent(db, now, f"presence-{presence.value}", name, me.name)
                changes = {"presence": [before, presence.value]}
                self._audit(db, me, now, "presence", "agent", name, changes)
            if online and not self._ROUTE_APART:
                self._route_waiting(db, now, me.name, 100)
        if online and self._ROUTE_APART:
            with self.store.write() as db:
                self._route_waiting(db, now, me.name, 100)
        with self.store.read() as db:
            (row,) = self._state_rows(db, name)
            return pure.state(row, self._current_rules(db), now, self._held(db, (name,)))

    def agent_states(self) -> tuple[AgentState, ...]:
        now = records.to_ts(self.clock())
        with self.store.read() as db:
            found = self._state_rows(db)
            load = self._held(db)
            rs = self._current_rules(db)
            return tuple(pure.state(r, rs, now, load) for r in found)

    def route_waiting(self, limit: int = 100) -> tuple[Contact, ...]:
        if not 1 <= limit <= 1000:
            raise InvalidInput(f"limit must be between 1 and 1000 (got {limit})")
        me = self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            given = self._route_waiting(db, now, me.name, limit)
            return tuple(self._contact(db, c) for c in given)

    # -- intents ----------------------------------------------------------------------

    def set_intent(
        self, contact_id: int, intent: str, *, expected_version: int | None = None
    ) -> Contact:
        intent = pure.check_intent(intent)
        me = self._writer()
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            current = self._contact(db, contact_id, lock=True)
            if expected_version is not None and current.version != expected_version:
                raise Conflict(
                    f"contact {contact_id} changed meanwhile (version {current.version}, "
                    f"you had {expected_version})",
                    current=current,
                )
            self._set_intent(db, contact_id, intent, now)
            self._log(db, now, ChangeEntity.CONTACT, contact_id, f"intent:{intent}", me.name)
            changes = {"intent": [current.intent, intent]}
            cid = current.customer_id
            self._audit(db, me, now, "intent", "contact", contact_id, changes, cid)
            return self._contact(db, contact_id)

    def classify(self, text: str) -> IntentGuess:
        if not text.strip():
            raise InvalidInput("there is no text to classify")
        limits.check_fields({"text": text})
        with self.store.read() as db:
            return self._guess(db, text)

    def train_intents(self) -> IntentReport:
        me = self._writer()
        self._admin("train the intent model")
        started = time.perf_counter()
        with self.store.read() as db:
            found = self._training_rows(db, pure.MAX_TRAINING)
        texts = [pure.training_text(r["subject"], r["body"]) for r in found]
        labels = [r["intent"] for r in found]
        from backends.routing import model as intent_model  # NumPy: only to train

        model, report = intent_model.train(texts, labels)
        now = records.to_ts(self.clock())
        data = pure.report_data(report, now, time.perf_counter() - started)
        with self.store.write() as db:
            self._save_model(db, now, me.name, json.dumps(data), model.to_bytes())
            summary = {"samples": report.samples, "accuracy": data["accuracy"]}
            self._audit(db, me, now, "intents-train", "intent_model", now, diff({}, summary))
        return pure.report(data)

    def intent_report(self) -> IntentReport | None:
        with self.store.read() as db:
            text = self._model_report(db)
        return None if text is None else pure.report(json.loads(text))

    # -- the rules file -------------------------------------------------------------------

    def routing_rules(self) -> str:
        with self.store.read() as db:
            return self._current_rules(db).text

    def set_routing_rules(self, text: str) -> str:
        me = self._writer()
        self._admin("change the routing rules")
        if text.strip():
            routing_rules.parse(text)  # refused here, not when a message arrives
        now = records.to_ts(self.clock())
        with self.store.write() as db:
            was = self._current_rules(db).text
            self._save_rules(db, text if text.strip() else None, now, me.name)
            now_text = self._current_rules(db).text
            changes = diff({"rules": was}, {"rules": now_text})
            self._audit(db, me, now, "routing-rules", "settings", "routing_rules", changes)
            return now_text
