"""Kafka topic names. Every topic of events is keyed by workspace_id (one writer per
workspace); ingest.sync-requests, ingest's own work queue, is keyed by mailbox_id: its
partitions are how ingest instances share the mailboxes (docs/decisions/0027)."""

INGEST_MAILBOXES = "ingest.mailboxes"
INGEST_MESSAGES = "ingest.messages"
INGEST_CALENDAR = "ingest.calendar"
IDENTITY_RECORDS = "identity.records"
IDENTITY_INTERACTIONS = "identity.interactions"
WORKSPACE_SETTINGS = "workspace.settings"
ACCESS_GRANTS = "access.grants"
INGEST_SYNC_REQUESTS = "ingest.sync-requests"

ALL_TOPICS = (
    INGEST_MAILBOXES,
    INGEST_MESSAGES,
    INGEST_CALENDAR,
    IDENTITY_RECORDS,
    IDENTITY_INTERACTIONS,
    WORKSPACE_SETTINGS,
    ACCESS_GRANTS,
    INGEST_SYNC_REQUESTS,
)


def dead_letter_topic(topic: str) -> str:
    """Poison messages of `topic` land here with the reason, never silently dropped."""
    return f"{topic}.dlq"
