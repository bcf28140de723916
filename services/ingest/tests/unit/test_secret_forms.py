"""Server replies are cleaned of every form of every secret the session sent."""

from __future__ import annotations

import base64
import imaplib
import re
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from commsintel.ingest.domain.secret_forms import (
    MASK,
    WITHHELD,
    SecretScrub,
    redacted_url,
    secret_forms,
    url_secrets,
)

PASSWORD = 'p"q\\x-Secr3t'
TOKEN = "ya29.a0AfH6SMBx-token_value"


def imap_quoted(secret: str) -> str:
    """How imaplib itself puts a password on the wire (LOGIN)."""
    return imaplib.IMAP4._quote(None, secret)  # type: ignore[arg-type]


def wire_forms(secret: str, username: str) -> list[str]:
    """The forms, computed here independently of the module under test."""
    xoauth2 = f"user={username}\x01auth=Bearer {secret}\x01\x01".encode()
    plain = f"\0{username}\0{secret}".encode()
    basic = f"{username}:{secret}".encode()
    return [
        secret,
        imap_quoted(secret)[1:-1],
        f"{{{len(secret)}}}\r\n{secret}",  # an IMAP literal
        base64.b64encode(xoauth2).decode(),
        base64.b64encode(plain).decode(),
        base64.b64encode(basic).decode(),
        base64.b64encode(secret.encode()).decode(),  # AUTH LOGIN
        quote(secret, safe=""),
        quote_plus(secret),
        # imaplib's `LOGIN command error: BAD [b'...']` shows the bytes' repr
        repr(imap_quoted(secret).encode("utf-8"))[2:-1],
        repr(secret)[1:-1],
    ]


def found(form: str, text: str) -> bool:
    """Whether a form shows in a cleaned reply. WITHHELD is a fixed text, not the
    reply: it gives nothing away even if a (short) secret happens to occur in it."""
    if text == WITHHELD:
        return False
    return re.search(re.escape(" ".join(form.split())), text, re.IGNORECASE) is not None


def test_an_echoed_login_keeps_the_reply_but_not_the_quoted_password():
    scrub = SecretScrub.of([PASSWORD], ["alice"])
    reply = f"NO [AUTHENTICATIONFAILED] you sent: a001 LOGIN alice {imap_quoted(PASSWORD)}"
    cleaned = scrub(reply)
    assert cleaned.startswith("NO [AUTHENTICATIONFAILED] you sent: a001 LOGIN alice")
    assert MASK in cleaned
    for form in wire_forms(PASSWORD, "alice"):
        assert not found(form, cleaned), form


def test_a_bad_answer_quoted_by_imaplib_loses_the_password_too():
    # imaplib raises `LOGIN command error: BAD [b'...']`: the echo, escaped once more
    echoed = f"rejected a001 LOGIN alice {imap_quoted(PASSWORD)}".encode()
    reply = "LOGIN command error: BAD %s" % [echoed]
    assert 'p\\\\"q' in reply  # p\\"q: the quoted form with its backslash escaped
    cleaned = SecretScrub.of([PASSWORD], ["alice"])(reply)
    assert cleaned == f"""LOGIN command error: BAD [b'rejected a001 LOGIN alice "{MASK}"']"""


def test_an_echoed_xoauth2_blob_is_removed():
    blob = base64.b64encode(f"user=alice\x01auth=Bearer {TOKEN}\x01\x01".encode()).decode()
    cleaned = SecretScrub.of([TOKEN], ["alice"])(f"NO rejected AUTHENTICATE XOAUTH2 {blob}")
    assert blob not in cleaned and TOKEN not in cleaned
    assert cleaned == f"NO rejected AUTHENTICATE XOAUTH2 {MASK}"


def test_an_upper_cased_echo_is_removed_too():
    cleaned = SecretScrub.of(["hunter22secret"])("NO BAD PASSWORD HUNTER22SECRET")
    assert "HUNTER22SECRET" not in cleaned


def test_a_secret_too_short_to_find_safely_withholds_the_whole_reply():
    assert SecretScrub.of(["abc"])("NO wrong password abc") == WITHHELD


def test_without_secrets_a_reply_is_only_tidied_and_shortened():
    assert SecretScrub.of([None, ""])("NO   try\r\n later") == "NO try later"
    assert len(SecretScrub.of([])("x" * 1000)) == 300


def test_every_wire_form_is_masked():
    scrub = SecretScrub.of([PASSWORD], ["alice"])
    assert PASSWORD in secret_forms(PASSWORD, "alice")
    for form in wire_forms(PASSWORD, "alice"):
        cleaned = scrub(f"NO you sent {form} here")
        assert cleaned.startswith("NO you sent") and MASK in cleaned, form
        assert not found(form, cleaned), form


secrets = st.text(min_size=1, max_size=40).filter(lambda s: s.strip())
users = st.text(alphabet=st.characters(codec="ascii"), max_size=12)
noise = st.text(max_size=60)


@settings(max_examples=300, deadline=None)
@given(secret=secrets, username=users, before=noise, after=noise, pick=st.integers(0, 10))
def test_no_form_of_a_random_secret_survives(secret, username, before, after, pick):
    forms = wire_forms(secret, username)
    reply = f"{before} {forms[pick]} {after}"
    cleaned = SecretScrub.of([secret], [username])(reply)
    for form in forms:
        assert not found(form, cleaned), (form, cleaned)


@settings(max_examples=200, deadline=None)
@given(password=secrets, token=secrets, username=users, parts=st.lists(noise, max_size=4))
def test_replies_naming_several_secrets_keep_none_of_them(password, token, username, parts):
    reply = " ".join([*parts, password, imap_quoted(token), *wire_forms(token, username)[3:5]])
    cleaned = SecretScrub.of([password, token], [username])(reply)
    for secret in (password, token):
        for form in wire_forms(secret, username):
            assert not found(form, cleaned), (form, cleaned)


def test_a_calendar_url_is_redacted_to_scheme_host_and_a_masked_path():
    url = (
        "https://bob:s3cret-pw@calendar.example.com:8443/ical/bob%40example.com/"
        "private-3f9a7c21d4e8b6a0/basic.ics?token=abc123xyz&lang=en#frag"
    )
    shown = redacted_url(url)
    assert shown == (
        "https://calendar.example.com:8443/ical/bob%40example.com/***/basic.ics?token=***&lang=***"
    )
    assert redacted_url(shown) == shown  # a stored redacted URL stays as it is
    assert redacted_url("/etc/passwd") == MASK
    assert redacted_url("http://[::1]:8080/cal") == "http://[::1]:8080/cal"


def test_the_secrets_of_a_calendar_url_are_its_password_token_and_query_values():
    url = "https://bob:pa%20ss@cal.example.com/published/2/MTIzNDU2Nzg5MDEyMzQ1Ng?key=v4lue"
    found_secrets = url_secrets(url)
    for secret in (url, "pa%20ss", "pa ss", "MTIzNDU2Nzg5MDEyMzQ1Ng", "v4lue"):
        assert secret in found_secrets
    assert "published" not in found_secrets and "cal.example.com" not in found_secrets
    cleaned = SecretScrub.of(url_secrets(url), ["bob"])(f"GET {url} failed: 404 for key v4lue")
    assert "v4lue" not in cleaned and "MTIzNDU2" not in cleaned and "pa ss" not in cleaned


def test_short_query_values_are_masked_in_the_url_but_do_not_silence_replies():
    url = "https://cal.example.com/feed.ics?lang=en&token=k3y-value"
    assert redacted_url(url) == "https://cal.example.com/feed.ics?lang=***&token=***"
    scrub = SecretScrub.of(url_secrets(url))
    assert scrub("HTTP 500 for token k3y-value") == f"HTTP 500 for token {MASK}"


hosts = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(
    host=hosts,
    user=st.from_regex(r"[a-z]{1,10}", fullmatch=True),
    password=st.text(min_size=4, max_size=30).filter(lambda s: s.strip()),
    token=st.from_regex(r"[A-Za-z0-9_-]{24,40}", fullmatch=True),
)
def test_a_redacted_url_never_shows_its_password_or_token(host, user, password, token):
    url = f"https://{user}:{quote(password, safe='')}@{host}/cal/{token}/basic.ics?key={token}"
    shown = redacted_url(url)
    assert shown == f"https://{host}/cal/{MASK}/basic.ics?key={MASK}"
    cleaned = SecretScrub.of(url_secrets(url), [user])(f"GET {url} failed for {password}")
    if cleaned != WITHHELD:
        for secret in (password, token, quote(password, safe="")):
            assert not found(secret, cleaned), (secret, cleaned)
