import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from commsintel.identity.domain.addresses import (
    FREE_MAIL_DOMAINS,
    address_domain,
    company_name_from_domain,
    is_free_mail_domain,
    is_role_address,
    normalize_address,
    registrable_domain,
)

fast = settings(max_examples=200, deadline=None)

# --- one person, one address -------------------------------------------------------


def test_same_address_in_any_case_is_one_person():
    assert normalize_address("Jane.Doe@Acme.COM") == normalize_address("jane.doe@acme.com")
    assert normalize_address("Jane.Doe@Acme.COM") == "jane.doe@acme.com"


def test_address_copied_with_angle_brackets_and_spaces_is_the_same_person():
    assert normalize_address("  <jane@acme.com> ") == "jane@acme.com"


def test_googlemail_and_gmail_dotted_addresses_are_one_person():
    # Google delivers all of these to one inbox
    spellings = ["jane.doe@gmail.com", "JaneDoe@googlemail.com", "j.a.n.e.doe@GMail.com"]

    assert {normalize_address(s) for s in spellings} == {"janedoe@gmail.com"}


def test_plus_tagged_gmail_address_is_the_same_person():
    assert normalize_address("jane.doe+newsletters@gmail.com") == "janedoe@gmail.com"


@pytest.mark.parametrize(
    "domain",
    [
        "outlook.com",
        "hotmail.com",
        "live.com",
        "icloud.com",
        "me.com",
        "fastmail.com",
        "protonmail.com",
        "proton.me",
    ],
)
def test_plus_tag_is_ignored_at_providers_that_deliver_it_to_the_same_inbox(domain):
    assert normalize_address(f"Jane.Doe+crm@{domain}") == f"jane.doe@{domain}"


def test_dots_only_collapse_at_gmail_not_at_other_providers():
    assert normalize_address("jane.doe@outlook.com") == "jane.doe@outlook.com"


def test_yahoo_plus_is_part_of_the_name_not_a_tag():
    # Yahoo's disposable addresses use "-", so "+" must not merge two people
    assert normalize_address("jane+work@yahoo.com") == "jane+work@yahoo.com"


def test_company_address_keeps_plus_and_dots_as_written():
    # a company's own server may route jane+sales@ to a different person
    assert normalize_address("Jane.Doe+Sales@Acme.com") == "jane.doe+sales@acme.com"


def test_punycode_and_unicode_domain_are_the_same_company_mailbox():
    assert normalize_address("hans@xn--bcher-kva.de") == "hans@bücher.de"
    assert normalize_address("Hans@BÜCHER.de") == "hans@bücher.de"


def test_trailing_root_dot_on_domain_is_ignored():
    assert normalize_address("jane@acme.com.") == "jane@acme.com"


def test_accented_name_typed_composed_or_decomposed_is_one_person():
    assert normalize_address("Cafe\u0301@acme.com") == normalize_address("Café@acme.com")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "jane",
        "jane@",
        "@acme.com",
        "jane@@acme.com",
        "jane@acme@example.com",
        "jane doe@acme.com",
        "Jane Doe <jane@acme.com>",
        "jane@localhost",
        "jane@acme..com",
        "jane@-acme.com",
        "jane@acme_corp.com",
        "jane@192.168.0.1",
        "jane@xn--zz.de",
        "undisclosed-recipients:;",
        "+tag@gmail.com",
        "...@gmail.com",
    ],
)
def test_text_that_is_not_an_address_never_becomes_a_person(text):
    assert normalize_address(text) is None


def test_domain_of_a_normalized_address():
    assert address_domain("hans@bücher.de") == "bücher.de"


# --- companies -----------------------------------------------------------------------


def test_subdomain_address_belongs_to_the_registrable_company_domain():
    assert registrable_domain("eu.acme.co.uk") == "acme.co.uk"
    assert registrable_domain("mail.acme.com") == "acme.com"
    assert registrable_domain("Mail.ACME.com.") == "acme.com"


def test_hosted_customer_domains_are_their_own_company_not_the_host():
    # the PSL private section: foo.github.io is not GitHub
    assert registrable_domain("pages.foo.github.io") == "foo.github.io"


def test_bare_public_suffix_is_no_company():
    assert registrable_domain("co.uk") is None
    assert registrable_domain("github.io") is None
    assert registrable_domain("com") is None
    assert registrable_domain("not a domain") is None


def test_punycode_company_domain_is_shown_in_unicode():
    assert registrable_domain("mail.xn--bcher-kva.de") == "bücher.de"


@pytest.mark.parametrize(
    "domain",
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.co.uk",
        "proton.me",
        "gmx.de",
        "web.de",
        "mail.ru",
        "qq.com",
        "163.com",
        "mailinator.com",
        "10minutemail.com",
    ],
)
def test_free_and_disposable_mail_providers_create_no_company(domain):
    assert is_free_mail_domain(domain)


def test_free_mail_provider_counts_under_any_subdomain_or_country():
    assert is_free_mail_domain("mail.yahoo.co.uk")
    assert is_free_mail_domain("yahoo.com.br")
    assert is_free_mail_domain("GMAIL.COM.")


def test_company_domain_is_not_free_mail():
    assert not is_free_mail_domain("acme.com")
    assert not is_free_mail_domain("mail.acme.co.uk")
    assert not is_free_mail_domain("not a domain")


def test_free_mail_list_holds_only_registrable_domains():
    assert all(registrable_domain(d) == d for d in FREE_MAIL_DOMAINS)


def test_company_gets_a_readable_name_from_its_domain():
    assert company_name_from_domain("acme-corp.co.uk") == "Acme Corp"
    assert company_name_from_domain("openai.com") == "Openai"
    assert company_name_from_domain("xn--bcher-kva.de") == "Bücher"


# --- role and automated senders ------------------------------------------------------


@pytest.mark.parametrize(
    "address",
    [
        "noreply@acme.com",
        "no-reply@acme.com",
        "donotreply@acme.com",
        "mailer-daemon@acme.com",
        "postmaster@acme.com",
        "bounces@acme.com",
        "notifications@github.com",
        "newsletter@acme.com",
        "info@acme.com",
        "support@acme.com",
        "sales@acme.com",
        "careers@acme.com",
    ],
)
def test_role_and_automated_mailboxes_never_become_people(address):
    assert is_role_address(address)


def test_numbered_bulk_sender_addresses_are_automated():
    assert is_role_address("noreply-123@acme.com")
    assert is_role_address("no-reply.digest@acme.com")
    assert is_role_address("bounces+abc=jane@lists.acme.com")


def test_tagged_team_mailbox_is_still_a_team_mailbox():
    assert is_role_address("support+eu@acme.com")


def test_people_whose_names_resemble_roles_are_still_people():
    assert not is_role_address("jane@acme.com")
    assert not is_role_address("newsroom.editor@acme.com")
    assert not is_role_address("helena@acme.com")


# --- properties ----------------------------------------------------------------------

_ascii_local = st.text(string.ascii_letters + string.digits + ".+-_", min_size=1, max_size=20)
_ascii_label = st.from_regex(r"[a-zA-Z0-9]([a-zA-Z0-9-]{0,10}[a-zA-Z0-9])?", fullmatch=True)
_suffixes = st.sampled_from(
    ["com", "co.uk", "de", "io", "com.au", "github.io", "jp", "xn--p1ai", "org"]
)
_providers = st.sampled_from([*sorted(FREE_MAIL_DOMAINS), "GoogleMail.com", "Gmail.com"])
_ascii_domains = st.one_of(
    _providers, st.builds(lambda label, suffix: f"{label}.{suffix}", _ascii_label, _suffixes)
)
_ascii_addresses = st.builds(
    lambda local, domain: f"{local}@{domain}", _ascii_local, _ascii_domains
)
_unicode_addresses = st.builds(
    lambda local, label, suffix: f"{local}@{label}.{suffix}",
    st.text(min_size=1, max_size=10),
    st.text(min_size=1, max_size=10),
    st.sampled_from(["de", "com", "рф", "xn--p1ai", "co.uk"]),
)
_anything = st.one_of(st.text(), st.emails(), _ascii_addresses, _unicode_addresses)


@fast
@given(_anything)
def test_normalizing_twice_changes_nothing(text):
    normalized = normalize_address(text)
    assume(normalized is not None)

    assert normalize_address(normalized) == normalized


@fast
@given(_ascii_addresses)
def test_shouting_an_address_does_not_make_a_new_person(address):
    assert normalize_address(address.upper()) == normalize_address(address)


@fast
@given(st.lists(_ascii_label, min_size=1, max_size=3), _ascii_label, _suffixes)
def test_every_subdomain_belongs_to_its_registrable_domain(subdomain, label, suffix):
    company = registrable_domain(f"{label}.{suffix}")
    assume(company is not None)

    assert registrable_domain(".".join([*subdomain, company])) == company


@fast
@given(st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=12), st.data())
def test_any_dotted_or_tagged_gmail_spelling_is_the_same_person(name, data):
    # Gmail ignores dots and everything after "+"
    dotted = "".join(c + data.draw(st.sampled_from(["", "."])) for c in name).rstrip(".")
    tag = data.draw(st.text(string.ascii_lowercase, max_size=8))

    assert normalize_address(f"{dotted}+{tag}@googlemail.com") == f"{name}@gmail.com"


@fast
@given(_anything)
def test_arbitrary_text_never_crashes_the_address_rules(text):
    normalized = normalize_address(text)
    assert normalized is None or isinstance(normalized, str)
    assert isinstance(is_free_mail_domain(text), bool)
    assert registrable_domain(text) is None or isinstance(registrable_domain(text), str)
    assert isinstance(company_name_from_domain(text), str)
    if normalized is not None:
        assert isinstance(is_role_address(normalized), bool)
        assert address_domain(normalized)
