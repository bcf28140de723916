"""The gRPC servicers (MailboxService, SendService, ContentService) and their value
mapping."""
