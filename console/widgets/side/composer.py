"""The reply composer: reply on the contact's channel (or another the customer has),
private notes, templates with variables, channel rules, drafts kept per contact.

It is composed only when the backend allows writes. Sending runs in a worker
with an idempotency key that stays the same while the attempt is unchanged,
so a retry after a failure never sends twice; the text is never lost.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from textual import on, work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.timer import Timer
from textual.widgets import Static, TextArea

from backends import templating as rules
from backends.channels import check_reply
from backends.models import Agent, Channel, Contact, Customer, CustomerFacts, Template
from console import actions
from console.format import error_text
from console.host import backend_of, host
from console.safe_text import content
from console.settings import Draft, Drafts
from console.widgets.side import templating


class Composer(Vertical):
    """Bottom (narrow) or right (wide) pane of the workspace."""

    BINDINGS = actions.bindings("composer")

    class Sent(Message):
        """A reply or note went out; `then` is "", "resolve" or "next"."""

        def __init__(self, contact_id: int, then: str, note: bool) -> None:
            super().__init__()
            self.contact_id, self.then, self.note = contact_id, then, note

    class TemplateWanted(Message):
        """Ctrl+T: the operator wants a template among `templates` (the screen opens the
        picker and hands the choice to `composer.insert_template`)."""

        def __init__(self, composer: Composer, templates: tuple[Template, ...]) -> None:
            super().__init__()
            self.composer, self.templates = composer, templates

    class Left(Message):
        """Escape: the operator is done typing (the screen moves focus back to the queue)."""

    class _Done(Message):
        def __init__(
            self,
            contact_id: int,
            then: str,
            note: bool,
            error: Exception | None,
            delivery: str | None = None,
        ) -> None:
            super().__init__()
            self.contact_id, self.then, self.note, self.error = contact_id, then, note, error
            self.delivery = delivery  # "queued" until a connector hands it to the provider

    def __init__(self, drafts: Drafts, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.drafts = drafts
        self.contact: Contact | None = None
        self.customer: Customer | None = None
        self.facts: CustomerFacts | None = None
        self.agent: Agent | None = None
        self.templates: tuple[Template, ...] = ()
        self.note = False
        self.channel: Channel | None = None
        self.template: Template | None = None
        self.template_body: str | None = None
        self.sending = False
        self._attempt: tuple[tuple[object, ...], str] | None = None
        self._save_timer: Timer | None = None
        self._loading = False
        self._text = TextArea(id="composer-text", soft_wrap=True, show_line_numbers=False)

    def compose(self) -> ComposeResult:
        yield Static(id="composer-head")
        yield self._text
        yield Static(id="composer-problems")

    def on_mount(self) -> None:
        self._paint()

    @property
    def text_area(self) -> TextArea:
        return self._text

    @property
    def body(self) -> str:
        return self.text_area.text

    # -- context ------------------------------------------------------------------

    def set_contact(self, contact: Contact | None) -> None:
        """Switch to another contact: keep the old draft, load the new one."""
        if self.contact is not None and contact is not None and contact.id == self.contact.id:
            self.contact = contact
            self._paint()
            return
        self.save_draft()
        self.contact = contact
        self.customer = self.facts = None
        self._attempt = None
        draft = self.drafts.get(contact.id) if contact is not None else None
        self._loading = True
        self.text_area.load_text(draft.body if draft else "")
        self._loading = False
        self.note = draft.note if draft else False
        self.channel = (
            Channel(draft.channel)
            if draft and draft.channel
            else (contact.channel if contact else None)
        )
        self.template = next(
            (t for t in self.templates if draft and t.name == draft.template), None
        )
        self.template_body = self.body if self.template else None
        self.disabled = contact is None
        self._paint()

    def set_reference(self, agent: Agent | None, templates: tuple[Template, ...]) -> None:
        """Who I am (an admin may reply on another's contact) and the reply templates."""
        self.agent, self.templates = agent, templates
        if self.is_mounted:
            self._paint()

    def set_customer(self, customer: Customer, facts: CustomerFacts) -> None:
        if self.contact is not None and customer.id == self.contact.customer_id:
            self.customer, self.facts = customer, facts
            self._paint()

    def channels(self) -> list[Channel]:
        """The contact's channel first, then the others the customer can be reached on."""
        if self.contact is None:
            return []
        found = [self.contact.channel]
        if self.customer is not None:
            if self.customer.emails:
                found.append(Channel.EMAIL)
            if self.customer.phones:
                found += [Channel.SMS, Channel.WHATSAPP]
        return list(dict.fromkeys(found))

    def _address(self, channel: Channel) -> str:
        """Where a reply on `channel` goes (empty when the contact's own thread)."""
        if self.customer is None or self.contact is None or channel is self.contact.channel:
            return ""
        if channel is Channel.EMAIL and self.customer.emails:
            return self.customer.emails[0]
        if channel in (Channel.SMS, Channel.WHATSAPP) and self.customer.phones:
            return self.customer.phones[0]
        return ""

    # -- checks ---------------------------------------------------------------------

    def held_by(self) -> str | None:
        """Who holds the contact when it is another operator's (then the composer is
        read-only: only they, or an admin, can reply); None when I may reply."""
        return actions.held_by_other(self.contact, host(self).agent_name, self.agent)

    def problems(self) -> list[str]:
        """What stops this text from being sent now."""
        if self.contact is None:
            return ["no contact selected"]
        values = templating.variables(self.customer, self.facts, self.contact, self.agent)
        known = rules.known_variables(t.body for t in self.templates)
        found = [f"unresolved variable {{{v}}}" for v in rules.unresolved(self.body, values, known)]
        me = host(self).agent_name
        role = self.agent.role.value if self.agent is not None else "operator"
        if self.contact.assignee not in (None, me) and role != "admin":
            found.append(f"held by {self.contact.assignee}: ask for a transfer first")
        if self.note:
            if not self.body.strip():
                found.append("the note is empty")
            return found
        now: datetime = host(self).now()
        approved = bool(
            self.template and self.template.whatsapp_approved and self.body == self.template_body
        )
        for problem in check_reply(
            self.channel or self.contact.channel,
            self.body,
            now=now,
            last_inbound_at=self.contact.last_inbound_at,
            contact_channel=self.contact.channel,
            customer=self.customer,
            approved_template=approved,
        ):
            found.append(problem.message)
        return found

    def _paint(self) -> None:
        head = self.query_one("#composer-head", Static)
        holder = self.held_by()
        # nothing to write (no contact, or another operator's): one line, no text box
        self.set_class(self.contact is None or holder is not None, "-closed")
        self.text_area.read_only = holder is not None
        if self.contact is None:
            head.update(Content.styled("Composer: open a contact to reply", "dim"))
            self.query_one("#composer-problems", Static).update("")
            return
        if holder is not None:  # one line: the view above gets the rows
            head.update(
                Content.assemble(
                    (" READ-ONLY ", "bold $text-warning on $warning-muted"),
                    (f" #{self.contact.id} is held by ", "dim"),
                    content(holder, "bold"),
                    (": ask for a transfer to reply", "dim"),
                )
            )
            return
        mode = (
            ("PRIVATE NOTE", "bold $text-warning on $warning-muted")
            if self.note
            else ("REPLY", "bold $text-success on $success-muted")
        )
        channel = (self.channel or self.contact.channel).value
        parts: list[object] = [(f" {mode[0]} ", mode[1])]
        if not self.note:
            parts += [" via ", (channel, "bold $accent")]
            address = self._address(self.channel or self.contact.channel)
            if address:
                parts += [" to ", content(address, "$secondary", max_length=40)]
        parts += [(f" · #{self.contact.id} ", "dim")]
        if self.template is not None:
            parts += [("template ", "dim"), content(self.template.name, "$secondary")]
        if self.sending:
            parts += [("  sending…", "bold $warning")]
        head.update(Content.assemble(*parts))  # type: ignore[arg-type]
        problems = [] if not self.body.strip() else self.problems()
        self.query_one("#composer-problems", Static).update(
            Content.styled("⚠ " + "; ".join(problems), "$error")
            if problems
            else Content.styled(
                "ctrl+s send · ctrl+r send+resolve · ctrl+n send+next · "
                "ctrl+t template · ctrl+o note · ctrl+g channel",
                "dim",
            )
        )

    # -- editing --------------------------------------------------------------------

    @on(TextArea.Changed, "#composer-text")
    def _changed(self) -> None:
        if self._loading:
            return
        if self.template is not None and self.body != self.template_body:
            self.template = None
            self.template_body = None
        self._paint()
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(0.5, self.save_draft)

    def save_draft(self) -> None:
        if self.contact is None:
            return
        self.drafts.put(
            self.contact.id,
            Draft(
                body=self.body,
                channel=self.channel.value if self.channel else None,
                note=self.note,
                template=self.template.name if self.template else None,
            ),
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if actions.is_mutating(action) and host(self).read_only:
            return False
        if action in (
            "send",
            "send_resolve",
            "send_next",
            "pick_template",
            "toggle_note",
            "cycle_reply_channel",
        ):
            return self.contact is not None and not self.sending or None
        return True

    def action_toggle_note(self) -> None:
        self.note = not self.note
        self._attempt = None
        self._paint()
        self.save_draft()

    def action_cycle_reply_channel(self) -> None:
        options = self.channels()
        if not options:
            return
        current = self.channel if self.channel in options else options[0]
        self.channel = options[(options.index(current) + 1) % len(options)]
        self.note = False
        self._paint()
        self.save_draft()

    def action_leave(self) -> None:
        self.save_draft()
        self.post_message(self.Left())

    def action_pick_template(self) -> None:
        channel = self.channel or (self.contact.channel if self.contact else None)
        # not retired, for this channel, and a WhatsApp template only once approved
        usable = [
            t
            for t in rules.offered(self.templates, channel)
            if t.channel is None or t.channel is channel
        ]
        self.post_message(self.TemplateWanted(self, tuple(usable)))

    def insert_template(self, template: Template | None) -> None:
        """Fill the template's variables and put it in the text (replacing an empty body)."""
        if template is None:
            return
        values = templating.variables(self.customer, self.facts, self.contact, self.agent)
        filled = templating.fill(template.body, values)
        text = filled if not self.body.strip() else self.body.rstrip() + "\n\n" + filled
        self.text_area.load_text(text)
        self.template = template if text == filled else None
        self.template_body = text if self.template else None
        self.note = False
        self._paint()
        self.save_draft()
        self.text_area.focus()
        missing = templating.unresolved(filled)
        if missing:
            self.app.notify(
                "Fill in before sending: " + ", ".join(f"{{{v}}}" for v in missing),
                title="Template",
                severity="warning",
                markup=False,
            )

    # -- sending --------------------------------------------------------------------

    def action_send(self) -> None:
        self._send("")

    def action_send_resolve(self) -> None:
        self._send("resolve")

    def action_send_next(self) -> None:
        self._send("next")

    def _send(self, then: str) -> None:
        if self.contact is None or self.sending:
            return
        problems = self.problems()
        if problems:
            self.query_one("#composer-problems", Static).update(
                Content.styled("⚠ not sent: " + "; ".join(problems), "bold $error")
            )
            self.app.bell()
            return
        channel = self.channel or self.contact.channel
        template = self.template.name if self.template and self.body == self.template_body else None
        attempt = (self.contact.id, self.body, channel, self.note, template)
        if self._attempt is None or self._attempt[0] != attempt:
            self._attempt = (attempt, uuid.uuid4().hex)
        self.sending = True
        self._paint()
        self._deliver(
            self.contact.id, self.body, channel, self.note, template, self._attempt[1], then
        )

    @work(thread=True, exclusive=True, group="send", exit_on_error=False)
    def _deliver(
        self,
        contact_id: int,
        body: str,
        channel: Channel,
        note: bool,
        template: str | None,
        key: str,
        then: str,
    ) -> None:
        backend = backend_of(self)
        try:
            if note:
                sent = backend.add_note(contact_id, body, idempotency_key=key)
            else:
                sent = backend.reply(
                    contact_id, body, channel=channel.value, idempotency_key=key, template=template
                )
        except Exception as error:  # noqa: BLE001 - shown in the composer, text kept
            self.post_message(self._Done(contact_id, then, note, error))
            return
        delivery = sent.delivery.value if sent.delivery else None
        self.post_message(self._Done(contact_id, then, note, None, delivery))

    def on_composer__done(self, message: _Done) -> None:
        message.stop()
        self.sending = False
        if message.error is not None:
            text = error_text(message.error, "Not sent")
            self._paint()
            self.query_one("#composer-problems", Static).update(
                Content.styled(f"⚠ {text} (your text is kept; retry is safe)", "bold $error")
            )
            self.app.notify(text, title="Reply", severity="error", markup=False)
            return
        self._attempt = None
        self.drafts.discard(message.contact_id)
        if self.contact is not None and self.contact.id == message.contact_id:
            self._loading = True
            self.text_area.load_text("")
            self._loading = False
            self.template = self.template_body = None
            self.note = False
        self._paint()
        if message.note:
            said = "Note added"
        elif message.delivery == "queued":
            said = "Reply queued (it goes out when a connector sends it)"
        else:
            said = "Reply sent"
        self.app.notify(said, markup=False)
        self.post_message(self.Sent(message.contact_id, message.then, message.note))

    def on_unmount(self) -> None:
        self.save_draft()
