from commsintel.contracts.events import SenderSignature
from commsintel.ingest.domain.parsing import parse_message
from commsintel.ingest.domain.sightings import archive_mailbox, message_synced

MAILBOX = archive_mailbox("northwind", "alice", "alice@northwind.io")
SIGNED_BODY = (
    "Hi Alice,\n\nThursday works.\n\nBest,\nPriya\n\n-- \nPriya Shah\nVP Sales | Brightpath\n"
    "+1 212-555-0143\nhttps://www.linkedin.com/in/priya-shah-49263e\n"
)


def received(*extra_headers: str) -> bytes:
    headers = [
        "From: Priya Shah <priya.shah@brightpath.com>",
        "To: Alice Martin <alice@northwind.io>",
        "Date: Tue, 02 Jan 2024 10:00:00 +0000",
        "Message-ID: <1@brightpath.com>",
        *extra_headers,
    ]
    return ("\n".join(headers) + "\n\n" + SIGNED_BODY).encode()


def synced(raw: bytes):
    return message_synced(MAILBOX, parse_message(raw, owner_addresses=MAILBOX.owner_addresses))


def test_sender_signature_travels_on_message_synced_but_not_for_automated_mail():
    # given a personal message with a signature
    event = synced(received())

    # then the event carries what the signature says, and never the body
    assert event.sender_signature == SenderSignature(
        name="Priya Shah",
        job_title="VP Sales",
        company_name="Brightpath",
        phone_numbers=("+12125550143",),
        linkedin_url="https://www.linkedin.com/in/priya-shah-49263e",
    )
    assert "Thursday works" not in event.model_dump_json()

    # and the same message sent through a mailing list carries no signature
    automated = synced(received("List-Id: Customers <customers.brightpath.com>"))
    assert automated.automated_reasons == ("list-id",)
    assert automated.sender_signature is None
