"""Sending rules: sandboxed templates that never send a blank, composed messages with
correct threading and private Bcc, and a mailbox's pace."""

from __future__ import annotations

import email
from datetime import UTC, datetime, timedelta
from email import policy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from commsintel.ingest.domain.sending import (
    Draft,
    MessageTemplate,
    OutgoingAttachment,
    TemplateProblem,
    ThreadParent,
    compose,
    message_id_for,
    next_send_at,
    person_context,
    render,
)

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def context(first_name: str = "Bob", company: str = "Acme") -> dict:
    return {
        "person": person_context(f"{first_name} Buyer" if first_name else "", "bob@acme.com"),
        "company": {"name": company, "domain": "acme.com", "description": ""},
        "sender": {"name": "Alice Owner", "email": "alice@ours.com"},
    }


def test_variables_are_rendered_from_the_record_data():
    template = MessageTemplate(
        "Renewal for {{ company.name }}",
        "Hi {{ person.first_name }},\n{{ sender.name }}",
        "<p>Hi {{ person.first_name }}</p>",
    )
    rendered = render(template, context())
    assert rendered.subject == "Renewal for Acme"
    assert rendered.text_body == "Hi Bob,\nAlice Owner"
    assert rendered.html_body == "<p>Hi Bob</p>"


@pytest.mark.parametrize(
    ("body", "missing"),
    [
        ("Hi {{ person.nickname }}", "nickname"),
        ("Hi {{ company.description }}", "description"),  # empty counts as missing
        ("Hi {{ colleague.name }}", "colleague"),
    ],
)
def test_a_missing_or_empty_variable_fails_with_its_name_never_a_blank(body, missing):
    with pytest.raises(TemplateProblem) as problem:
        render(MessageTemplate("Hello", body), context())
    assert "missing variable" in str(problem.value) and missing in str(problem.value)


def test_an_unknown_first_name_fails_rather_than_greeting_nobody():
    with pytest.raises(TemplateProblem):
        render(MessageTemplate("Hi", "Hi {{ person.first_name }},"), context(first_name=""))


@pytest.mark.parametrize(
    "attack",
    [
        "{{ person.__class__ }}",
        "{{ person.items.__globals__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__.os }}",
        "{% for x in range(10**9) %}{% endfor %}",
    ],
)
def test_the_sandbox_allows_no_way_out_of_the_record_data(attack):
    with pytest.raises(TemplateProblem):
        render(MessageTemplate("Hi", attack), context())


def test_html_bodies_escape_values_and_text_bodies_do_not():
    data = context(company="Smith & <Sons>")
    rendered = render(MessageTemplate("x", "{{ company.name }}", "{{ company.name }}"), data)
    assert rendered.text_body == "Smith & <Sons>"
    assert rendered.html_body == "Smith &amp; &lt;Sons&gt;"


def test_a_subject_cannot_be_made_to_inject_headers():
    data = context(company="Acme\r\nBcc: victim@example.com")
    with pytest.raises(TemplateProblem):
        render(MessageTemplate("For {{ company.name }}", "x"), data)


def test_syntax_errors_and_empty_templates_are_refused():
    for template in (
        MessageTemplate("", "body"),
        MessageTemplate("subject"),
        MessageTemplate("Hi {{ person.first_name", "body"),
    ):
        with pytest.raises(TemplateProblem):
            render(template, context())


def parse(raw: bytes):
    return email.message_from_bytes(raw, policy=policy.default)


def test_a_composed_reply_threads_and_keeps_bcc_private():
    draft = Draft(
        sender_address="alice@ours.com",
        sender_name="Alice Owner",
        to=("Bob <bob@acme.com>",),
        cc=("carol@beta.io",),
        bcc=("boss@ours.com",),
        subject="Re: renewal",
        text_body="Thanks!",
        html_body="<p>Thanks!</p>",
        attachments=(OutgoingAttachment("quote.pdf", "application/pdf", b"%PDF-1.4"),),
    )
    parent = ThreadParent("<m2@acme.com>", ("<m1@ours.com>",))
    raw = compose(draft, message_id="<x@ours.com>", date=T0, parent=parent)
    message = parse(raw)
    assert message["From"] == "Alice Owner <alice@ours.com>"
    assert message["Bcc"] is None and b"boss@ours.com" not in raw
    assert message["In-Reply-To"] == "<m2@acme.com>"
    assert message["References"] == "<m1@ours.com> <m2@acme.com>"
    assert draft.recipients == ("bob@acme.com", "carol@beta.io", "boss@ours.com")
    attachment = next(message.iter_attachments())
    assert attachment.get_filename() == "quote.pdf"
    assert attachment.get_content() == b"%PDF-1.4"
    assert message.get_body(("plain",)).get_content().strip() == "Thanks!"


def test_the_same_request_makes_the_same_message_id():
    one = message_id_for("mb1", "key-1", "alice@ours.com")
    assert one == message_id_for("mb1", "key-1", "alice@ours.com")
    assert one != message_id_for("mb1", "key-2", "alice@ours.com")
    assert one.endswith("@ours.com>")


@given(st.floats(min_value=0.5, max_value=600), st.integers(min_value=0, max_value=120))
def test_messages_of_a_mailbox_are_spaced_by_its_rate(per_minute, seconds_later):
    now = T0 + timedelta(seconds=seconds_later)
    slot = next_send_at(T0, now, per_minute)
    assert slot >= now
    assert slot >= T0 + timedelta(seconds=60 / per_minute) - timedelta(microseconds=1)
    assert next_send_at(None, now, per_minute) == now
