import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commsintel.ingest.domain.parsing import parse_message
from commsintel.ingest.domain.signatures import Signature, extract_signature
from commsintel.sample_mailboxes import SAMPLE_WORKSPACE, generate_sample_messages

JANE = "jane.doe@acme-logistics.co.uk"


def extract(body: str | None, address: str = JANE, name: str = "Jane Doe") -> Signature | None:
    return extract_signature(body, sender_address=address, sender_display_name=name)


def letter(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# --- where the signature is ----------------------------------------------------------


def test_phone_and_linkedin_in_a_signature_are_found():
    # given a reply whose signature follows the "-- " delimiter
    body = letter(
        "Hi Alice,",
        "",
        "Thursday works for us.",
        "",
        "Best,",
        "Jane",
        "",
        "-- ",
        "Jane Doe",
        "Head of Procurement | Acme Logistics",
        "+44 20 7946 0958",
        "https://www.linkedin.com/in/jane-doe-1a2b3c",
    )

    signature = extract(body)

    # then everything the block says about Jane is found, normalized
    assert signature == Signature(
        name="Jane Doe",
        job_title="Head of Procurement",
        company_name="Acme Logistics",
        phone_numbers=("+442079460958",),
        linkedin_url="https://www.linkedin.com/in/jane-doe-1a2b3c",
        twitter_url=None,
        github_url=None,
        website_domain=None,
        email_addresses=(),
    )


@pytest.mark.parametrize("closing", ["Best regards,", "Kind regards,", "Thanks,", "Cheers!"])
def test_signature_after_a_closing_line_is_found(closing):
    # given no delimiter, only a closing line above the signature
    body = letter(
        "Hi Alice,",
        "",
        "Please find the signed order form attached.",
        "",
        closing,
        "Jane Doe",
        "Head of Procurement at Acme Logistics",
        "Mobile: (415) 555-0100",
    )

    signature = extract(body)

    assert signature is not None
    assert (signature.name, signature.job_title, signature.company_name) == (
        "Jane Doe",
        "Head of Procurement",
        "Acme Logistics",
    )
    assert signature.phone_numbers == ("4155550100",)


def test_first_name_sign_off_above_the_full_signature_is_skipped():
    body = letter(
        "Sounds good.", "", "Thanks,", "Jane", "", "Jane Doe", "VP Sales", "+1 212 5550148"
    )

    signature = extract(body)

    assert signature is not None
    assert (signature.name, signature.job_title) == ("Jane Doe", "VP Sales")


def test_long_paragraph_after_a_closing_word_is_not_a_signature():
    # given "Thanks," opening a message, followed by ordinary prose and a number
    body = letter(
        "Thanks,",
        "",
        "I spoke to finance and they are happy with the terms you proposed last week.",
        "One open point: could you call me on 020 7946 0958 about the invoice dates?",
        "The rest of the team has a few questions about onboarding and training slots,",
        "which I will collect and send over before our call on Thursday afternoon.",
        "Also, please include the security overview that legal asked about, and the",
        "data processing agreement, the sub-processor list and the SLA summary, so",
        "that they can finish their review before the end of the month as planned,",
        "and let me know whether the pilot can start with the sales team only.",
        "Speak soon.",
    )

    assert extract(body) is None


# --- other people's signatures -------------------------------------------------------

PRIYA_SIGNATURE = ("Priya Shah", "VP Sales | Brightpath", "+1 212-555-0143")


@pytest.mark.parametrize(
    "quote",
    [
        # Gmail
        letter(
            "On Tue, 2 Jan 2024 at 10:00, Priya Shah <priya.shah@brightpath.com> wrote:",
            *(f"> {line}" for line in ("Hi Jane,", "", "Any news?", "", "-- ", *PRIYA_SIGNATURE)),
        ),
        # Gmail, the header wrapped onto two lines
        letter(
            "On Tue, 2 Jan 2024 at 10:00, Priya Shah <",
            "priya.shah@brightpath.com> wrote:",
            "Any news?",
            "",
            "Best,",
            *PRIYA_SIGNATURE,
        ),
        # Outlook
        letter(
            "________________________________",
            "From: Priya Shah <priya.shah@brightpath.com>",
            "Sent: Tuesday, January 2, 2024 10:00 AM",
            "Subject: Pilot",
            "",
            "Any news?",
            "",
            "Kind regards,",
            *PRIYA_SIGNATURE,
        ),
        letter(
            "-----Original Message-----",
            "From: Priya Shah [mailto:priya.shah@brightpath.com]",
            "Any news?",
            "",
            "Regards,",
            *PRIYA_SIGNATURE,
        ),
        letter(
            "From: Priya Shah <priya.shah@brightpath.com>",
            "Sent: Tuesday, January 2, 2024 10:00 AM",
            "Any news?",
            "",
            "Thanks,",
            *PRIYA_SIGNATURE,
        ),
        letter(
            "Am 02.01.2024 um 10:00 schrieb Priya Shah <priya.shah@brightpath.com>:",
            "Any news?",
            "",
            "Viele Grüße",
            *PRIYA_SIGNATURE,
        ),
        letter(
            "---------- Forwarded message ---------",
            "From: Priya Shah <priya.shah@brightpath.com>",
            "Any news?",
            "",
            "Cheers,",
            *PRIYA_SIGNATURE,
        ),
    ],
    ids=["gmail", "gmail-wrapped", "outlook", "original-message", "from-sent", "german", "fwd"],
)
def test_quoted_signature_of_someone_else_is_ignored(quote):
    # given Jane's short answer above Priya's quoted message and signature
    reply = letter("Hi Priya,", "", "Not yet, I will chase legal today.", "", "Jane", "") + quote

    # then nothing of Priya's is attributed to Jane
    assert extract(reply) is None
    # and Jane's own signature above the quote is still hers alone
    signed = letter("Not yet.", "", "-- ", "Jane Doe", "+44 20 7946 0958", "") + quote
    signature = extract(signed)
    assert signature is not None
    assert (signature.name, signature.phone_numbers) == ("Jane Doe", ("+442079460958",))
    assert signature.job_title is None and signature.company_name is None


def test_a_signature_block_opening_with_someone_elses_name_is_not_the_senders():
    # given a block that opens with a name sharing no word with the From display name
    body = letter(
        "Here you go.",
        "",
        "-- ",
        "Robert Hale",
        "Senior Buyer | Bluefin Capital",
        "robert.hale@gmail.com",
    )

    signature = extract(body, name="Jane Doe")

    # then nothing in it is taken as Jane's: not the name, not the address
    assert signature is None
    # and the same block sent by Robert is his
    robert = extract(body, address="rhale@bluefincapital.com", name="Hale, Robert")
    assert robert is not None
    assert (robert.name, robert.job_title) == ("Robert Hale", "Senior Buyer")


def test_name_matches_display_name_without_accents_or_case():
    body = letter("Merci.", "", "-- ", "Élodie Rousseau", "Directrice commerciale")

    signature = extract(body, address="elodie@atelier-rousseau.fr", name="ELODIE ROUSSEAU")

    assert signature is not None
    assert signature.name == "Élodie Rousseau"


def test_name_is_taken_from_a_one_line_signature_without_display_name():
    body = letter("See you then.", "", "--", "Jane Doe | Head of Procurement | Acme Logistics Ltd")

    signature = extract(body, name="")

    assert signature is not None
    assert (signature.name, signature.job_title, signature.company_name) == (
        "Jane Doe",
        "Head of Procurement",
        "Acme Logistics Ltd",
    )


# --- what the signature says ---------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normalized"),
    [
        ("+44 20 7946 0958", "+442079460958"),
        ("(415) 555-0100", "4155550100"),
        ("+44 (0)20 7946 0958", "+442079460958"),
        ("T: +1 415.555.0100", "+14155550100"),
        ("Tel. 030/5555 123", "0305555123"),
        ("M +33 1 99 00 12 34", "+33199001234"),
    ],
)
def test_phone_numbers_are_normalized(written, normalized):
    signature = extract(letter("Thanks!", "", "-- ", "Jane Doe", written))

    assert signature is not None
    assert signature.phone_numbers == (normalized,)


def test_two_numbers_on_one_line_are_both_found_and_short_or_registration_numbers_are_not():
    body = letter(
        "Ok.",
        "",
        "-- ",
        "Jane Doe",
        "Office +44 20 7946 0958 / Mobile +44 7700 900123",
        "Ext. 4412, Suite 21100",
        "Registered in England No. 01234567",
    )

    signature = extract(body)

    assert signature is not None
    assert signature.phone_numbers == ("+442079460958", "+447700900123")


@pytest.mark.parametrize(
    "written",
    [
        "twitter.com/JaneDoe",
        "https://x.com/janedoe?lang=en",
        "Twitter: @JaneDoe",
        "X: @janedoe",
    ],
)
def test_twitter_and_x_profiles_become_x_urls(written):
    signature = extract(letter("Cheers,", "Jane Doe", written))

    assert signature is not None
    assert signature.twitter_url == "https://x.com/janedoe"


def test_a_bare_handle_without_twitter_label_is_not_a_profile():
    signature = extract(letter("Cheers,", "Jane Doe", "Slack: @jane"))

    assert signature is not None
    assert signature.twitter_url is None


def test_github_profile_is_found_from_a_repository_link():
    signature = extract(letter("Thanks,", "Jane Doe", "https://github.com/JaneDoe/route-planner"))

    assert signature is not None
    assert signature.github_url == "https://github.com/janedoe"


def test_company_website_is_found_but_not_profile_mail_or_booking_links():
    body = letter(
        "Thanks,",
        "Jane Doe",
        "https://www.linkedin.com/in/janedoe",
        "Book a call: https://calendly.com/janedoe",
        "Web: www.Acme-Logistics.co.uk/contact",
    )

    signature = extract(body)

    assert signature is not None
    assert signature.website_domain == "acme-logistics.co.uk"
    assert signature.linkedin_url == "https://www.linkedin.com/in/janedoe"


def test_bare_domain_on_its_own_line_is_the_website():
    signature = extract(letter("Thanks,", "Jane Doe", "acme-logistics.co.uk"))

    assert signature is not None
    assert signature.website_domain == "acme-logistics.co.uk"


def test_other_address_in_signature_is_found_but_not_senders_own_or_team_address():
    body = letter(
        "Best,",
        "Jane Doe",
        f"E: {JANE.upper()}",
        "or reach me at Jane.Doe@gmail.com",
        "General enquiries: info@acme-logistics.co.uk",
    )

    signature = extract(body)

    assert signature is not None
    assert signature.email_addresses == ("jane.doe@gmail.com",)


@pytest.mark.parametrize(
    ("line", "title", "company"),
    [
        ("Head of Procurement | Acme Logistics", "Head of Procurement", "Acme Logistics"),
        ("Head of Procurement at Acme Logistics", "Head of Procurement", "Acme Logistics"),
        ("Head of Procurement, Acme Logistics Ltd", "Head of Procurement", "Acme Logistics Ltd"),
        # the company named in the sender's mail domain
        ("Head of Procurement, Acme Logistics", "Head of Procurement", "Acme Logistics"),
        # a comma inside a title is not a company
        ("Account Executive, North America", "Account Executive, North America", None),
        ("Acme Logistics GmbH", None, "Acme Logistics GmbH"),
        ("Head of Procurement", "Head of Procurement", None),
    ],
)
def test_title_and_company_are_split_from_the_line_under_the_name(line, title, company):
    signature = extract(letter("Regards,", "Jane Doe", line))

    assert signature is not None
    assert (signature.job_title, signature.company_name) == (title, company)


def test_company_line_further_down_is_found():
    body = letter("Regards,", "Jane Doe", "Head of Procurement", "Acme Logistics Ltd.", "London")

    signature = extract(body)

    assert signature is not None
    assert (signature.job_title, signature.company_name) == (
        "Head of Procurement",
        "Acme Logistics Ltd.",
    )


def test_german_closing_starts_the_signature():
    body = letter(
        "Hallo Alice,",
        "",
        "anbei das unterschriebene Angebot.",
        "",
        "Mit freundlichen Grüßen",
        "",
        "Klaus Becker",
        "Leiter Vertrieb",
        "Halden Maschinenbau GmbH",
        "Tel. +49 30 5555 123",
        "USt-IdNr. DE123456789",
    )

    signature = extract(body, address="klaus.becker@halden-maschinenbau.de", name="Klaus Becker")

    assert signature is not None
    assert (signature.name, signature.job_title, signature.company_name) == (
        "Klaus Becker",
        "Leiter Vertrieb",
        "Halden Maschinenbau GmbH",
    )
    assert signature.phone_numbers == ("+49305555123",)


def test_last_paragraph_opening_with_the_senders_name_is_a_signature():
    body = letter("Attached.", "", "Jane Doe", "Head of Procurement | Acme Logistics")

    signature = extract(body)

    assert signature is not None
    assert (signature.name, signature.company_name) == ("Jane Doe", "Acme Logistics")


@pytest.mark.parametrize(
    "body",
    [
        None,
        "",
        letter("Hi Alice,", "", "Thanks, that works for us.", "", "Jane"),
        letter("Sounds good!", "", "Best,", "Jane"),
        letter("Lunch at 12:30?", "", "Sent from my iPhone"),
    ],
)
def test_plain_message_without_signature_gives_none(body):
    assert extract(body) is None


@pytest.mark.timeout(30)
def test_signature_at_the_end_of_a_long_message_is_found_and_hostile_text_does_not_hang():
    # given a very long message that ends in a signature
    long_body = "Some text that goes on.\n" * 20_000 + letter("-- ", "Jane Doe", "+44 20 7946 0958")
    signature = extract(long_body)
    assert signature is not None
    assert signature.phone_numbers == ("+442079460958",)

    # and inputs shaped to make regexes backtrack
    for hostile in (
        "a." * 50_000,
        "1 " * 50_000,
        "-- \n" + "a" * 99 + "@" + "b." * 40,
        "Best,\nJane Doe\n" + "+1 (" * 20,
        "On " * 10_000 + "\nwrote:",
    ):
        extract(hostile)  # the timeout mark turns catastrophic backtracking into a failure


# --- realistic mail -------------------------------------------------------------------


def test_sample_mailboxes_yield_signatures_that_never_contradict_the_sender():
    member = SAMPLE_WORKSPACE.members[0]
    found = []
    for raw in generate_sample_messages(member):
        message = parse_message(raw, owner_addresses=frozenset({member.address}))
        sender = next(p for p in message.participants if p.role == "from")
        signature = extract(message.text_body, sender.address, sender.display_name)
        if signature is not None:
            found.append((sender, signature))

    # then many senders' phones and LinkedIn profiles are found
    with_profile = [s for _, s in found if s.phone_numbers and s.linkedin_url]
    assert len(with_profile) > 50
    # and every extracted name shares a word with the From display name
    for sender, signature in found:
        if signature.name is not None:
            name_words = set(signature.name.casefold().split())
            assert name_words & set(sender.display_name.casefold().split()), (sender, signature)
    # and each sender has one signature: nobody is given a signature quoted in their reply
    by_sender: dict[str, set[Signature]] = {}
    for sender, signature in found:
        by_sender.setdefault(sender.address, set()).add(signature)
    assert {address: len(s) for address, s in by_sender.items() if len(s) > 1} == {}


# --- any input ------------------------------------------------------------------------

_SIGNATURE_PARTS = st.sampled_from(
    [
        "-- ", "--", "Best,", "Mit freundlichen Grüßen", "Jane Doe", "Dr. Jane O'Neil-Doe",
        "Head of Sales | Acme Ltd", "VP, Acme", "at", "+44 (0)20 7946 0958", "(", ")", "+",
        "https://", "www.", "linkedin.com/in/", "x.com/", "github.com/", "Twitter: @",
        "@", ".", "|", ">", "On Tue, Jane wrote:", "From: a", "Sent: b", "_" * 32,
        "jane@gmail.com", "\n", "\r\n", " ", "\u00a0", "\u200b", "Ltd", "GmbH", "ß", "İ",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    body=st.one_of(
        st.text(),
        st.lists(st.one_of(_SIGNATURE_PARTS, st.text(max_size=12)), max_size=60).map("".join),
    ),
    address=st.text(max_size=40),
    name=st.text(max_size=40),
)
def test_any_text_gives_a_signature_or_none_and_never_raises(body, address, name):
    signature = extract_signature(body, sender_address=address, sender_display_name=name)

    assert signature is None or isinstance(signature, Signature)
