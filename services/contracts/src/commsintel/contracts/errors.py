"""Domain exceptions every service raises; the gRPC interceptor maps them to status codes."""


class CommsintelError(Exception):
    """Base: the message is shown to the caller, so it must never carry private data."""


class InvalidArgument(CommsintelError):
    pass


class NotFound(CommsintelError):
    pass


class PermissionDenied(CommsintelError):
    pass


class AlreadyExists(CommsintelError):
    pass


class Unavailable(CommsintelError):
    """A service this answer depends on did not answer; the caller may retry."""


class ResourceExhausted(CommsintelError):
    """The request is larger than anything the service keeps or sends on."""


class FailedPrecondition(CommsintelError):
    """The request is fine, but the state it needs is not there (yet)."""
