"""Outgoing mail: personalized templates rendered in a sandbox, messages composed with
correct threading headers, and the pace a mailbox sends at.

Templates are Jinja2 in its SandboxedEnvironment: the data is plain dictionaries of
strings (no objects whose attributes or methods could be reached), undefined variables
are errors (StrictUndefined), and an empty value counts as missing, so a recipient is
never sent "Hi ," because their first name is unknown.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment

_ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)
_HTML_ENVIRONMENT = SandboxedEnvironment(undefined=StrictUndefined, autoescape=True)
_MESSAGE_ID_NAMESPACE = uuid.UUID("0b8f6f3e-5d7a-4a53-8c43-3b1f0f9a7d21")
MAX_TEMPLATE_CHARS = 200_000


class TemplateProblem(ValueError):
    """The template cannot be rendered for this recipient; the message says why."""


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    subject: str
    text_body: str = ""
    html_body: str = ""


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    text_body: str
    html_body: str


@dataclass(frozen=True, slots=True)
class OutgoingAttachment:
    filename: str
    content_type: str
    content: bytes


@dataclass(frozen=True, slots=True)
class Draft:
    sender_address: str
    sender_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...] = ()
    bcc: tuple[str, ...] = ()
    subject: str = ""
    text_body: str = ""
    html_body: str = ""
    attachments: tuple[OutgoingAttachment, ...] = ()

    @property
    def recipients(self) -> tuple[str, ...]:
        """The envelope: every address of to, cc and bcc, once, without display names."""
        return tuple(dict.fromkeys(parseaddr(a)[1] for a in (*self.to, *self.cc, *self.bcc)))


@dataclass(frozen=True, slots=True)
class ThreadParent:
    """The message a reply answers: its Message-ID and its References."""

    message_id: str
    references: tuple[str, ...] = ()


def check_template(template: MessageTemplate) -> None:
    """Refuse what can never render: no subject, no body, syntax errors, huge input."""
    if not template.subject.strip():
        raise TemplateProblem("the template has no subject")
    if not (template.text_body.strip() or template.html_body.strip()):
        raise TemplateProblem("the template has neither a text nor an HTML body")
    for name, source in _parts(template):
        if len(source) > MAX_TEMPLATE_CHARS:
            raise TemplateProblem(f"the template's {name} is longer than {MAX_TEMPLATE_CHARS}")
        try:
            _ENVIRONMENT.parse(source)
        except TemplateError as error:
            raise TemplateProblem(f"the template's {name} does not parse: {error}") from None


def render(template: MessageTemplate, context: Mapping[str, Mapping[str, str]]) -> RenderedMessage:
    """The template for one recipient. `context` maps person / company / sender to their
    fields; empty fields are treated as missing."""
    check_template(template)
    data = {
        scope: {key: value for key, value in fields.items() if str(value).strip()}
        for scope, fields in context.items()
    }
    rendered: dict[str, str] = {}
    for name, source in _parts(template):
        environment = _HTML_ENVIRONMENT if name == "html_body" else _ENVIRONMENT
        try:
            rendered[name] = environment.from_string(source).render(data)
        except UndefinedError as error:
            raise TemplateProblem(f"missing variable in the {_label(name)}: {error}") from None
        except (TemplateError, ArithmeticError, TypeError, ValueError, LookupError) as error:
            # Sandbox refusals, huge ranges, bad operations on the data: the template's fault.
            raise TemplateProblem(f"the {_label(name)} cannot be rendered: {error}") from None
    if "\n" in rendered["subject"] or "\r" in rendered["subject"]:
        raise TemplateProblem("the rendered subject spans several lines")
    return RenderedMessage(
        rendered["subject"].strip(), rendered.get("text_body", ""), rendered.get("html_body", "")
    )


def person_context(name: str, address: str, job_title: str = "", phone: str = "") -> dict[str, str]:
    first, _, last = name.strip().partition(" ")
    return {
        "name": name.strip(),
        "first_name": first,
        "last_name": last.strip(),
        "email": address,
        "job_title": job_title,
        "phone": phone,
    }


def message_id_for(mailbox_id: str, idempotency_key: str, sender_address: str) -> str:
    """The same send request always makes the same Message-ID, so a retry after a crash
    is recognized downstream as the same message."""
    domain = sender_address.rpartition("@")[2] or "commsintel.invalid"
    return f"<{uuid.uuid5(_MESSAGE_ID_NAMESPACE, f'{mailbox_id}|{idempotency_key}')}@{domain}>"


def compose(
    draft: Draft, *, message_id: str, date: datetime, parent: ThreadParent | None = None
) -> bytes:
    """RFC 5322 bytes. Bcc recipients are in the envelope only, never in a header."""
    if not draft.recipients:
        raise ValueError("a message needs at least one recipient")
    message = EmailMessage()
    message["From"] = formataddr((draft.sender_name, draft.sender_address))
    if draft.to:
        message["To"] = ", ".join(draft.to)
    if draft.cc:
        message["Cc"] = ", ".join(draft.cc)
    message["Subject"] = draft.subject
    message["Date"] = format_datetime(date)
    message["Message-ID"] = message_id
    if parent is not None:
        message["In-Reply-To"] = parent.message_id
        message["References"] = " ".join((*parent.references, parent.message_id))
    if draft.text_body or not draft.html_body:
        message.set_content(draft.text_body)
        if draft.html_body:
            message.add_alternative(draft.html_body, subtype="html")
    else:
        message.set_content(draft.html_body, subtype="html")
    for attachment in draft.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(
            attachment.content,
            maintype=maintype or "application",
            subtype=subtype or "octet-stream",
            filename=attachment.filename,
        )
    # CRLF line ends: smtplib sends bytes as they are, and SMTP lines end in CRLF.
    return message.as_bytes(policy=policy.SMTP)


def next_send_at(last_sent_at: datetime | None, now: datetime, per_minute: float) -> datetime:
    """When the mailbox may send next: messages at least 60/per_minute seconds apart."""
    if last_sent_at is None:
        return now
    return max(now, last_sent_at + timedelta(seconds=60.0 / per_minute))


def _parts(template: MessageTemplate) -> Sequence[tuple[str, str]]:
    parts = [("subject", template.subject)]
    if template.text_body:
        parts.append(("text_body", template.text_body))
    if template.html_body:
        parts.append(("html_body", template.html_body))
    return parts


def _label(name: str) -> str:
    return {"subject": "subject", "text_body": "text body", "html_body": "HTML body"}[name]
