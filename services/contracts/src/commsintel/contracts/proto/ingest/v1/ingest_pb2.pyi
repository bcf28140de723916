import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImapSecurity(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    IMAP_SECURITY_UNSPECIFIED: _ClassVar[ImapSecurity]
    IMAP_SECURITY_TLS: _ClassVar[ImapSecurity]
    IMAP_SECURITY_STARTTLS: _ClassVar[ImapSecurity]
    IMAP_SECURITY_NONE: _ClassVar[ImapSecurity]

class OAuthProvider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OAUTH_PROVIDER_UNSPECIFIED: _ClassVar[OAuthProvider]
    OAUTH_PROVIDER_GOOGLE: _ClassVar[OAuthProvider]
    OAUTH_PROVIDER_MICROSOFT: _ClassVar[OAuthProvider]
    OAUTH_PROVIDER_GENERIC: _ClassVar[OAuthProvider]

class SyncState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_STATE_UNSPECIFIED: _ClassVar[SyncState]
    SYNC_STATE_SYNCING: _ClassVar[SyncState]
    SYNC_STATE_IDLE: _ClassVar[SyncState]
    SYNC_STATE_ERROR: _ClassVar[SyncState]

class SyncError(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_ERROR_UNSPECIFIED: _ClassVar[SyncError]
    SYNC_ERROR_AUTH_FAILED: _ClassVar[SyncError]
    SYNC_ERROR_UNREACHABLE: _ClassVar[SyncError]
    SYNC_ERROR_SERVER: _ClassVar[SyncError]
    SYNC_ERROR_REAUTHORIZATION_NEEDED: _ClassVar[SyncError]

class DeliveryState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DELIVERY_STATE_UNSPECIFIED: _ClassVar[DeliveryState]
    DELIVERY_STATE_QUEUED: _ClassVar[DeliveryState]
    DELIVERY_STATE_SENT: _ClassVar[DeliveryState]
    DELIVERY_STATE_FAILED: _ClassVar[DeliveryState]
IMAP_SECURITY_UNSPECIFIED: ImapSecurity
IMAP_SECURITY_TLS: ImapSecurity
IMAP_SECURITY_STARTTLS: ImapSecurity
IMAP_SECURITY_NONE: ImapSecurity
OAUTH_PROVIDER_UNSPECIFIED: OAuthProvider
OAUTH_PROVIDER_GOOGLE: OAuthProvider
OAUTH_PROVIDER_MICROSOFT: OAuthProvider
OAUTH_PROVIDER_GENERIC: OAuthProvider
SYNC_STATE_UNSPECIFIED: SyncState
SYNC_STATE_SYNCING: SyncState
SYNC_STATE_IDLE: SyncState
SYNC_STATE_ERROR: SyncState
SYNC_ERROR_UNSPECIFIED: SyncError
SYNC_ERROR_AUTH_FAILED: SyncError
SYNC_ERROR_UNREACHABLE: SyncError
SYNC_ERROR_SERVER: SyncError
SYNC_ERROR_REAUTHORIZATION_NEEDED: SyncError
DELIVERY_STATE_UNSPECIFIED: DeliveryState
DELIVERY_STATE_QUEUED: DeliveryState
DELIVERY_STATE_SENT: DeliveryState
DELIVERY_STATE_FAILED: DeliveryState

class ImapCredentials(_message.Message):
    __slots__ = ("host", "port", "security", "username", "password", "oauth2_access_token", "oauth2")
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SECURITY_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    OAUTH2_ACCESS_TOKEN_FIELD_NUMBER: _ClassVar[int]
    OAUTH2_FIELD_NUMBER: _ClassVar[int]
    host: str
    port: int
    security: ImapSecurity
    username: str
    password: str
    oauth2_access_token: str
    oauth2: OAuth2Grant
    def __init__(self, host: _Optional[str] = ..., port: _Optional[int] = ..., security: _Optional[_Union[ImapSecurity, str]] = ..., username: _Optional[str] = ..., password: _Optional[str] = ..., oauth2_access_token: _Optional[str] = ..., oauth2: _Optional[_Union[OAuth2Grant, _Mapping]] = ...) -> None: ...

class OAuth2Grant(_message.Message):
    __slots__ = ("provider", "state", "code", "refresh_token")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REFRESH_TOKEN_FIELD_NUMBER: _ClassVar[int]
    provider: OAuthProvider
    state: str
    code: str
    refresh_token: str
    def __init__(self, provider: _Optional[_Union[OAuthProvider, str]] = ..., state: _Optional[str] = ..., code: _Optional[str] = ..., refresh_token: _Optional[str] = ...) -> None: ...

class StartAuthorizationRequest(_message.Message):
    __slots__ = ("provider", "login_hint")
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    LOGIN_HINT_FIELD_NUMBER: _ClassVar[int]
    provider: OAuthProvider
    login_hint: str
    def __init__(self, provider: _Optional[_Union[OAuthProvider, str]] = ..., login_hint: _Optional[str] = ...) -> None: ...

class StartAuthorizationResponse(_message.Message):
    __slots__ = ("authorization_url", "state", "expires_at")
    AUTHORIZATION_URL_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    authorization_url: str
    state: str
    expires_at: _timestamp_pb2.Timestamp
    def __init__(self, authorization_url: _Optional[str] = ..., state: _Optional[str] = ..., expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class SmtpSettings(_message.Message):
    __slots__ = ("host", "port", "security", "username", "password")
    HOST_FIELD_NUMBER: _ClassVar[int]
    PORT_FIELD_NUMBER: _ClassVar[int]
    SECURITY_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    host: str
    port: int
    security: ImapSecurity
    username: str
    password: str
    def __init__(self, host: _Optional[str] = ..., port: _Optional[int] = ..., security: _Optional[_Union[ImapSecurity, str]] = ..., username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class CalendarSource(_message.Message):
    __slots__ = ("caldav", "ics_url")
    CALDAV_FIELD_NUMBER: _ClassVar[int]
    ICS_URL_FIELD_NUMBER: _ClassVar[int]
    caldav: CaldavCalendar
    ics_url: str
    def __init__(self, caldav: _Optional[_Union[CaldavCalendar, _Mapping]] = ..., ics_url: _Optional[str] = ...) -> None: ...

class CaldavCalendar(_message.Message):
    __slots__ = ("url", "username", "password")
    URL_FIELD_NUMBER: _ClassVar[int]
    USERNAME_FIELD_NUMBER: _ClassVar[int]
    PASSWORD_FIELD_NUMBER: _ClassVar[int]
    url: str
    username: str
    password: str
    def __init__(self, url: _Optional[str] = ..., username: _Optional[str] = ..., password: _Optional[str] = ...) -> None: ...

class SyncStatus(_message.Message):
    __slots__ = ("state", "messages_done", "messages_total", "error", "error_message", "last_success_at", "updated_at", "backlog")
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_DONE_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    ERROR_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LAST_SUCCESS_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    BACKLOG_FIELD_NUMBER: _ClassVar[int]
    state: SyncState
    messages_done: int
    messages_total: int
    error: SyncError
    error_message: str
    last_success_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    backlog: int
    def __init__(self, state: _Optional[_Union[SyncState, str]] = ..., messages_done: _Optional[int] = ..., messages_total: _Optional[int] = ..., error: _Optional[_Union[SyncError, str]] = ..., error_message: _Optional[str] = ..., last_success_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., backlog: _Optional[int] = ...) -> None: ...

class Mailbox(_message.Message):
    __slots__ = ("mailbox_id", "member_id", "owner_addresses", "source", "imap_host", "imap_port", "imap_username", "imap_auth", "calendar_kind", "calendar_url", "calendar_enabled", "blocklist", "status", "connected_at", "smtp_host", "smtp_port", "sender_name", "calendar_status", "oauth_provider", "synced_by")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    IMAP_HOST_FIELD_NUMBER: _ClassVar[int]
    IMAP_PORT_FIELD_NUMBER: _ClassVar[int]
    IMAP_USERNAME_FIELD_NUMBER: _ClassVar[int]
    IMAP_AUTH_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_KIND_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_URL_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_ENABLED_FIELD_NUMBER: _ClassVar[int]
    BLOCKLIST_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CONNECTED_AT_FIELD_NUMBER: _ClassVar[int]
    SMTP_HOST_FIELD_NUMBER: _ClassVar[int]
    SMTP_PORT_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_STATUS_FIELD_NUMBER: _ClassVar[int]
    OAUTH_PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SYNCED_BY_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    member_id: str
    owner_addresses: _containers.RepeatedScalarFieldContainer[str]
    source: str
    imap_host: str
    imap_port: int
    imap_username: str
    imap_auth: str
    calendar_kind: str
    calendar_url: str
    calendar_enabled: bool
    blocklist: _containers.RepeatedScalarFieldContainer[str]
    status: SyncStatus
    connected_at: _timestamp_pb2.Timestamp
    smtp_host: str
    smtp_port: int
    sender_name: str
    calendar_status: SyncStatus
    oauth_provider: str
    synced_by: str
    def __init__(self, mailbox_id: _Optional[str] = ..., member_id: _Optional[str] = ..., owner_addresses: _Optional[_Iterable[str]] = ..., source: _Optional[str] = ..., imap_host: _Optional[str] = ..., imap_port: _Optional[int] = ..., imap_username: _Optional[str] = ..., imap_auth: _Optional[str] = ..., calendar_kind: _Optional[str] = ..., calendar_url: _Optional[str] = ..., calendar_enabled: _Optional[bool] = ..., blocklist: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[SyncStatus, _Mapping]] = ..., connected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., smtp_host: _Optional[str] = ..., smtp_port: _Optional[int] = ..., sender_name: _Optional[str] = ..., calendar_status: _Optional[_Union[SyncStatus, _Mapping]] = ..., oauth_provider: _Optional[str] = ..., synced_by: _Optional[str] = ...) -> None: ...

class ConnectMailboxRequest(_message.Message):
    __slots__ = ("imap", "owner_addresses", "calendar", "blocklist", "smtp", "sender_name")
    IMAP_FIELD_NUMBER: _ClassVar[int]
    OWNER_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    BLOCKLIST_FIELD_NUMBER: _ClassVar[int]
    SMTP_FIELD_NUMBER: _ClassVar[int]
    SENDER_NAME_FIELD_NUMBER: _ClassVar[int]
    imap: ImapCredentials
    owner_addresses: _containers.RepeatedScalarFieldContainer[str]
    calendar: CalendarSource
    blocklist: _containers.RepeatedScalarFieldContainer[str]
    smtp: SmtpSettings
    sender_name: str
    def __init__(self, imap: _Optional[_Union[ImapCredentials, _Mapping]] = ..., owner_addresses: _Optional[_Iterable[str]] = ..., calendar: _Optional[_Union[CalendarSource, _Mapping]] = ..., blocklist: _Optional[_Iterable[str]] = ..., smtp: _Optional[_Union[SmtpSettings, _Mapping]] = ..., sender_name: _Optional[str] = ...) -> None: ...

class ConnectMailboxResponse(_message.Message):
    __slots__ = ("mailbox",)
    MAILBOX_FIELD_NUMBER: _ClassVar[int]
    mailbox: Mailbox
    def __init__(self, mailbox: _Optional[_Union[Mailbox, _Mapping]] = ...) -> None: ...

class GetMailboxRequest(_message.Message):
    __slots__ = ("mailbox_id",)
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    def __init__(self, mailbox_id: _Optional[str] = ...) -> None: ...

class GetMailboxResponse(_message.Message):
    __slots__ = ("mailbox",)
    MAILBOX_FIELD_NUMBER: _ClassVar[int]
    mailbox: Mailbox
    def __init__(self, mailbox: _Optional[_Union[Mailbox, _Mapping]] = ...) -> None: ...

class ListMailboxesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListMailboxesResponse(_message.Message):
    __slots__ = ("mailboxes",)
    MAILBOXES_FIELD_NUMBER: _ClassVar[int]
    mailboxes: _containers.RepeatedCompositeFieldContainer[Mailbox]
    def __init__(self, mailboxes: _Optional[_Iterable[_Union[Mailbox, _Mapping]]] = ...) -> None: ...

class UpdateMailboxSettingsRequest(_message.Message):
    __slots__ = ("mailbox_id", "blocklist", "replace_blocklist", "calendar_enabled")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    BLOCKLIST_FIELD_NUMBER: _ClassVar[int]
    REPLACE_BLOCKLIST_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_ENABLED_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    blocklist: _containers.RepeatedScalarFieldContainer[str]
    replace_blocklist: bool
    calendar_enabled: bool
    def __init__(self, mailbox_id: _Optional[str] = ..., blocklist: _Optional[_Iterable[str]] = ..., replace_blocklist: _Optional[bool] = ..., calendar_enabled: _Optional[bool] = ...) -> None: ...

class UpdateMailboxSettingsResponse(_message.Message):
    __slots__ = ("mailbox", "messages_retracted", "messages_restored")
    MAILBOX_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_RETRACTED_FIELD_NUMBER: _ClassVar[int]
    MESSAGES_RESTORED_FIELD_NUMBER: _ClassVar[int]
    mailbox: Mailbox
    messages_retracted: int
    messages_restored: int
    def __init__(self, mailbox: _Optional[_Union[Mailbox, _Mapping]] = ..., messages_retracted: _Optional[int] = ..., messages_restored: _Optional[int] = ...) -> None: ...

class ReconnectMailboxRequest(_message.Message):
    __slots__ = ("mailbox_id", "imap", "calendar", "smtp")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    IMAP_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_FIELD_NUMBER: _ClassVar[int]
    SMTP_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    imap: ImapCredentials
    calendar: CalendarSource
    smtp: SmtpSettings
    def __init__(self, mailbox_id: _Optional[str] = ..., imap: _Optional[_Union[ImapCredentials, _Mapping]] = ..., calendar: _Optional[_Union[CalendarSource, _Mapping]] = ..., smtp: _Optional[_Union[SmtpSettings, _Mapping]] = ...) -> None: ...

class ReconnectMailboxResponse(_message.Message):
    __slots__ = ("mailbox",)
    MAILBOX_FIELD_NUMBER: _ClassVar[int]
    mailbox: Mailbox
    def __init__(self, mailbox: _Optional[_Union[Mailbox, _Mapping]] = ...) -> None: ...

class SyncMailboxNowRequest(_message.Message):
    __slots__ = ("mailbox_id",)
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    def __init__(self, mailbox_id: _Optional[str] = ...) -> None: ...

class SyncMailboxNowResponse(_message.Message):
    __slots__ = ("mailbox",)
    MAILBOX_FIELD_NUMBER: _ClassVar[int]
    mailbox: Mailbox
    def __init__(self, mailbox: _Optional[_Union[Mailbox, _Mapping]] = ...) -> None: ...

class RemoveMailboxRequest(_message.Message):
    __slots__ = ("mailbox_id",)
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    def __init__(self, mailbox_id: _Optional[str] = ...) -> None: ...

class RemoveMailboxResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListQuarantinedMessagesRequest(_message.Message):
    __slots__ = ("mailbox_id", "page_size", "page_token")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    page_size: int
    page_token: str
    def __init__(self, mailbox_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class QuarantinedMessage(_message.Message):
    __slots__ = ("quarantine_id", "source", "reason", "size")
    QUARANTINE_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    quarantine_id: str
    source: str
    reason: str
    size: int
    def __init__(self, quarantine_id: _Optional[str] = ..., source: _Optional[str] = ..., reason: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class ListQuarantinedMessagesResponse(_message.Message):
    __slots__ = ("messages", "next_page_token")
    MESSAGES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    messages: _containers.RepeatedCompositeFieldContainer[QuarantinedMessage]
    next_page_token: str
    def __init__(self, messages: _Optional[_Iterable[_Union[QuarantinedMessage, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetMessageContentRequest(_message.Message):
    __slots__ = ("message_key", "mailbox_id")
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    message_key: str
    mailbox_id: str
    def __init__(self, message_key: _Optional[str] = ..., mailbox_id: _Optional[str] = ...) -> None: ...

class AttachmentInfo(_message.Message):
    __slots__ = ("index", "filename", "content_type", "size")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    index: int
    filename: str
    content_type: str
    size: int
    def __init__(self, index: _Optional[int] = ..., filename: _Optional[str] = ..., content_type: _Optional[str] = ..., size: _Optional[int] = ...) -> None: ...

class GetMessageContentResponse(_message.Message):
    __slots__ = ("message_key", "mailbox_id", "text_body", "html_body", "attachments")
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    TEXT_BODY_FIELD_NUMBER: _ClassVar[int]
    HTML_BODY_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    message_key: str
    mailbox_id: str
    text_body: str
    html_body: str
    attachments: _containers.RepeatedCompositeFieldContainer[AttachmentInfo]
    def __init__(self, message_key: _Optional[str] = ..., mailbox_id: _Optional[str] = ..., text_body: _Optional[str] = ..., html_body: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[AttachmentInfo, _Mapping]]] = ...) -> None: ...

class GetAttachmentRequest(_message.Message):
    __slots__ = ("message_key", "mailbox_id", "index")
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    message_key: str
    mailbox_id: str
    index: int
    def __init__(self, message_key: _Optional[str] = ..., mailbox_id: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class GetAttachmentResponse(_message.Message):
    __slots__ = ("attachment", "content")
    ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    attachment: AttachmentInfo
    content: bytes
    def __init__(self, attachment: _Optional[_Union[AttachmentInfo, _Mapping]] = ..., content: _Optional[bytes] = ...) -> None: ...

class OutgoingAttachment(_message.Message):
    __slots__ = ("filename", "content_type", "content")
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    filename: str
    content_type: str
    content: bytes
    def __init__(self, filename: _Optional[str] = ..., content_type: _Optional[str] = ..., content: _Optional[bytes] = ...) -> None: ...

class SendEmailRequest(_message.Message):
    __slots__ = ("mailbox_id", "idempotency_key", "to", "cc", "bcc", "subject", "text_body", "html_body", "attachments", "in_reply_to_message_key")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    CC_FIELD_NUMBER: _ClassVar[int]
    BCC_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_BODY_FIELD_NUMBER: _ClassVar[int]
    HTML_BODY_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    IN_REPLY_TO_MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    idempotency_key: str
    to: _containers.RepeatedScalarFieldContainer[str]
    cc: _containers.RepeatedScalarFieldContainer[str]
    bcc: _containers.RepeatedScalarFieldContainer[str]
    subject: str
    text_body: str
    html_body: str
    attachments: _containers.RepeatedCompositeFieldContainer[OutgoingAttachment]
    in_reply_to_message_key: str
    def __init__(self, mailbox_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., to: _Optional[_Iterable[str]] = ..., cc: _Optional[_Iterable[str]] = ..., bcc: _Optional[_Iterable[str]] = ..., subject: _Optional[str] = ..., text_body: _Optional[str] = ..., html_body: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[OutgoingAttachment, _Mapping]]] = ..., in_reply_to_message_key: _Optional[str] = ...) -> None: ...

class SendEmailResponse(_message.Message):
    __slots__ = ("state", "message_key", "refused", "failure")
    STATE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    state: DeliveryState
    message_key: str
    refused: _containers.RepeatedCompositeFieldContainer[RecipientFailure]
    failure: str
    def __init__(self, state: _Optional[_Union[DeliveryState, str]] = ..., message_key: _Optional[str] = ..., refused: _Optional[_Iterable[_Union[RecipientFailure, _Mapping]]] = ..., failure: _Optional[str] = ...) -> None: ...

class RecipientFailure(_message.Message):
    __slots__ = ("address", "reason")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    address: str
    reason: str
    def __init__(self, address: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class MessageTemplate(_message.Message):
    __slots__ = ("subject", "text_body", "html_body")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_BODY_FIELD_NUMBER: _ClassVar[int]
    HTML_BODY_FIELD_NUMBER: _ClassVar[int]
    subject: str
    text_body: str
    html_body: str
    def __init__(self, subject: _Optional[str] = ..., text_body: _Optional[str] = ..., html_body: _Optional[str] = ...) -> None: ...

class StartMassSendRequest(_message.Message):
    __slots__ = ("mailbox_id", "idempotency_key", "template", "person_ids")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    idempotency_key: str
    template: MessageTemplate
    person_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, mailbox_id: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., template: _Optional[_Union[MessageTemplate, _Mapping]] = ..., person_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class MassSendRecipient(_message.Message):
    __slots__ = ("person_id", "address", "state", "reason", "message_key")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    address: str
    state: DeliveryState
    reason: str
    message_key: str
    def __init__(self, person_id: _Optional[str] = ..., address: _Optional[str] = ..., state: _Optional[_Union[DeliveryState, str]] = ..., reason: _Optional[str] = ..., message_key: _Optional[str] = ...) -> None: ...

class MassSend(_message.Message):
    __slots__ = ("mass_send_id", "mailbox_id", "recipients", "created_at")
    MASS_SEND_ID_FIELD_NUMBER: _ClassVar[int]
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    mass_send_id: str
    mailbox_id: str
    recipients: _containers.RepeatedCompositeFieldContainer[MassSendRecipient]
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, mass_send_id: _Optional[str] = ..., mailbox_id: _Optional[str] = ..., recipients: _Optional[_Iterable[_Union[MassSendRecipient, _Mapping]]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StartMassSendResponse(_message.Message):
    __slots__ = ("mass_send",)
    MASS_SEND_FIELD_NUMBER: _ClassVar[int]
    mass_send: MassSend
    def __init__(self, mass_send: _Optional[_Union[MassSend, _Mapping]] = ...) -> None: ...

class GetMassSendRequest(_message.Message):
    __slots__ = ("mass_send_id",)
    MASS_SEND_ID_FIELD_NUMBER: _ClassVar[int]
    mass_send_id: str
    def __init__(self, mass_send_id: _Optional[str] = ...) -> None: ...

class GetMassSendResponse(_message.Message):
    __slots__ = ("mass_send",)
    MASS_SEND_FIELD_NUMBER: _ClassVar[int]
    mass_send: MassSend
    def __init__(self, mass_send: _Optional[_Union[MassSend, _Mapping]] = ...) -> None: ...

class PreviewMassSendRequest(_message.Message):
    __slots__ = ("mailbox_id", "template", "person_id")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    template: MessageTemplate
    person_id: str
    def __init__(self, mailbox_id: _Optional[str] = ..., template: _Optional[_Union[MessageTemplate, _Mapping]] = ..., person_id: _Optional[str] = ...) -> None: ...

class PreviewMassSendResponse(_message.Message):
    __slots__ = ("address", "subject", "text_body", "html_body", "failure")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    TEXT_BODY_FIELD_NUMBER: _ClassVar[int]
    HTML_BODY_FIELD_NUMBER: _ClassVar[int]
    FAILURE_FIELD_NUMBER: _ClassVar[int]
    address: str
    subject: str
    text_body: str
    html_body: str
    failure: str
    def __init__(self, address: _Optional[str] = ..., subject: _Optional[str] = ..., text_body: _Optional[str] = ..., html_body: _Optional[str] = ..., failure: _Optional[str] = ...) -> None: ...
