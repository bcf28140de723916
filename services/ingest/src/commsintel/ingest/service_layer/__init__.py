"""Ingest's service layer: intake, sync (mail and calendar), sending, archive import,
mailbox commands and OAuth accounts."""
