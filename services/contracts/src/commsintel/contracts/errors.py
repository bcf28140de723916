"""The exceptions every service raises, named for what went wrong in the product. The
gRPC interceptor (`commsintel.platform.grpc_runtime`) is the one place that maps them to
status codes; nothing else names a status code."""


class CommsintelError(Exception):
    """Base: the message is shown to the caller, so it must never carry private data."""


class InvalidValue(CommsintelError):
    """A value the rules refuse: a malformed address, an unknown field, a bad page token."""


class UnknownItem(CommsintelError):
    """No such record, mailbox, message or request, or none the caller may know of."""


class NotAllowed(CommsintelError):
    """The caller may not do this (not the owner, not an admin)."""


class AlreadyKnown(CommsintelError):
    """The thing to create is there already."""


class TryAgainLater(CommsintelError):
    """A service this answer depends on did not answer, or a change is accepted but not
    applied yet; the caller may retry."""


class TooLarge(CommsintelError):
    """The request is larger than anything the service keeps or sends on."""


class NotReady(CommsintelError):
    """The request is fine, but the state it needs is not there (yet)."""
