import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from commsintel.contracts.proto.intelligence.v1 import intelligence_pb2 as _intelligence_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RecordKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECORD_KIND_UNSPECIFIED: _ClassVar[RecordKind]
    RECORD_KIND_PERSON: _ClassVar[RecordKind]
    RECORD_KIND_COMPANY: _ClassVar[RecordKind]

class VisibilityLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VISIBILITY_LEVEL_UNSPECIFIED: _ClassVar[VisibilityLevel]
    VISIBILITY_LEVEL_NONE: _ClassVar[VisibilityLevel]
    VISIBILITY_LEVEL_METADATA: _ClassVar[VisibilityLevel]
    VISIBILITY_LEVEL_SUBJECT: _ClassVar[VisibilityLevel]
    VISIBILITY_LEVEL_FULL: _ClassVar[VisibilityLevel]

class RsvpStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RSVP_STATUS_UNSPECIFIED: _ClassVar[RsvpStatus]
    RSVP_STATUS_ACCEPTED: _ClassVar[RsvpStatus]
    RSVP_STATUS_DECLINED: _ClassVar[RsvpStatus]
    RSVP_STATUS_TENTATIVE: _ClassVar[RsvpStatus]
    RSVP_STATUS_NEEDS_ACTION: _ClassVar[RsvpStatus]

class AccessTargetKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_TARGET_KIND_UNSPECIFIED: _ClassVar[AccessTargetKind]
    ACCESS_TARGET_KIND_MESSAGE: _ClassVar[AccessTargetKind]
    ACCESS_TARGET_KIND_THREAD: _ClassVar[AccessTargetKind]
    ACCESS_TARGET_KIND_RECORD: _ClassVar[AccessTargetKind]

class AccessRequestState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_REQUEST_STATE_UNSPECIFIED: _ClassVar[AccessRequestState]
    ACCESS_REQUEST_STATE_PENDING: _ClassVar[AccessRequestState]
    ACCESS_REQUEST_STATE_APPROVED: _ClassVar[AccessRequestState]
    ACCESS_REQUEST_STATE_DECLINED: _ClassVar[AccessRequestState]

class AccessRequestDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_REQUEST_DIRECTION_UNSPECIFIED: _ClassVar[AccessRequestDirection]
    ACCESS_REQUEST_DIRECTION_INCOMING: _ClassVar[AccessRequestDirection]
    ACCESS_REQUEST_DIRECTION_OUTGOING: _ClassVar[AccessRequestDirection]

class AccessDecision(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ACCESS_DECISION_UNSPECIFIED: _ClassVar[AccessDecision]
    ACCESS_DECISION_APPROVE: _ClassVar[AccessDecision]
    ACCESS_DECISION_DECLINE: _ClassVar[AccessDecision]
RECORD_KIND_UNSPECIFIED: RecordKind
RECORD_KIND_PERSON: RecordKind
RECORD_KIND_COMPANY: RecordKind
VISIBILITY_LEVEL_UNSPECIFIED: VisibilityLevel
VISIBILITY_LEVEL_NONE: VisibilityLevel
VISIBILITY_LEVEL_METADATA: VisibilityLevel
VISIBILITY_LEVEL_SUBJECT: VisibilityLevel
VISIBILITY_LEVEL_FULL: VisibilityLevel
RSVP_STATUS_UNSPECIFIED: RsvpStatus
RSVP_STATUS_ACCEPTED: RsvpStatus
RSVP_STATUS_DECLINED: RsvpStatus
RSVP_STATUS_TENTATIVE: RsvpStatus
RSVP_STATUS_NEEDS_ACTION: RsvpStatus
ACCESS_TARGET_KIND_UNSPECIFIED: AccessTargetKind
ACCESS_TARGET_KIND_MESSAGE: AccessTargetKind
ACCESS_TARGET_KIND_THREAD: AccessTargetKind
ACCESS_TARGET_KIND_RECORD: AccessTargetKind
ACCESS_REQUEST_STATE_UNSPECIFIED: AccessRequestState
ACCESS_REQUEST_STATE_PENDING: AccessRequestState
ACCESS_REQUEST_STATE_APPROVED: AccessRequestState
ACCESS_REQUEST_STATE_DECLINED: AccessRequestState
ACCESS_REQUEST_DIRECTION_UNSPECIFIED: AccessRequestDirection
ACCESS_REQUEST_DIRECTION_INCOMING: AccessRequestDirection
ACCESS_REQUEST_DIRECTION_OUTGOING: AccessRequestDirection
ACCESS_DECISION_UNSPECIFIED: AccessDecision
ACCESS_DECISION_APPROVE: AccessDecision
ACCESS_DECISION_DECLINE: AccessDecision

class Record(_message.Message):
    __slots__ = ("record_id", "kind", "name", "email_address", "company_id", "domains")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    EMAIL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOMAINS_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    kind: RecordKind
    name: str
    email_address: str
    company_id: str
    domains: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, record_id: _Optional[str] = ..., kind: _Optional[_Union[RecordKind, str]] = ..., name: _Optional[str] = ..., email_address: _Optional[str] = ..., company_id: _Optional[str] = ..., domains: _Optional[_Iterable[str]] = ...) -> None: ...

class ListRecordsRequest(_message.Message):
    __slots__ = ("kind", "page_size", "page_token")
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    kind: RecordKind
    page_size: int
    page_token: str
    def __init__(self, kind: _Optional[_Union[RecordKind, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRecordsResponse(_message.Message):
    __slots__ = ("records", "next_page_token")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[Record]
    next_page_token: str
    def __init__(self, records: _Optional[_Iterable[_Union[Record, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetRecordRequest(_message.Message):
    __slots__ = ("record_id",)
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    def __init__(self, record_id: _Optional[str] = ...) -> None: ...

class GetRecordResponse(_message.Message):
    __slots__ = ("record", "intelligence")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    INTELLIGENCE_FIELD_NUMBER: _ClassVar[int]
    record: Record
    intelligence: _intelligence_pb2.RecordIntelligence
    def __init__(self, record: _Optional[_Union[Record, _Mapping]] = ..., intelligence: _Optional[_Union[_intelligence_pb2.RecordIntelligence, _Mapping]] = ...) -> None: ...

class ListRecordEmailsRequest(_message.Message):
    __slots__ = ("record_id", "page_size", "page_token")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    page_size: int
    page_token: str
    def __init__(self, record_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class EmailParticipant(_message.Message):
    __slots__ = ("role", "address", "display_name")
    ROLE_FIELD_NUMBER: _ClassVar[int]
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    role: str
    address: str
    display_name: str
    def __init__(self, role: _Optional[str] = ..., address: _Optional[str] = ..., display_name: _Optional[str] = ...) -> None: ...

class RecordEmail(_message.Message):
    __slots__ = ("message_key", "visibility", "sent_at", "participants", "subject", "can_request_access", "thread_key", "access_requested")
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CAN_REQUEST_ACCESS_FIELD_NUMBER: _ClassVar[int]
    THREAD_KEY_FIELD_NUMBER: _ClassVar[int]
    ACCESS_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    message_key: str
    visibility: VisibilityLevel
    sent_at: _timestamp_pb2.Timestamp
    participants: _containers.RepeatedCompositeFieldContainer[EmailParticipant]
    subject: str
    can_request_access: bool
    thread_key: str
    access_requested: bool
    def __init__(self, message_key: _Optional[str] = ..., visibility: _Optional[_Union[VisibilityLevel, str]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., participants: _Optional[_Iterable[_Union[EmailParticipant, _Mapping]]] = ..., subject: _Optional[str] = ..., can_request_access: _Optional[bool] = ..., thread_key: _Optional[str] = ..., access_requested: _Optional[bool] = ...) -> None: ...

class ListRecordEmailsResponse(_message.Message):
    __slots__ = ("emails", "next_page_token")
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    emails: _containers.RepeatedCompositeFieldContainer[RecordEmail]
    next_page_token: str
    def __init__(self, emails: _Optional[_Iterable[_Union[RecordEmail, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListRecordActivityRequest(_message.Message):
    __slots__ = ("record_id", "page_size", "page_token")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    page_size: int
    page_token: str
    def __init__(self, record_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class CalendarAttendee(_message.Message):
    __slots__ = ("address", "display_name", "rsvp")
    ADDRESS_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    RSVP_FIELD_NUMBER: _ClassVar[int]
    address: str
    display_name: str
    rsvp: RsvpStatus
    def __init__(self, address: _Optional[str] = ..., display_name: _Optional[str] = ..., rsvp: _Optional[_Union[RsvpStatus, str]] = ...) -> None: ...

class RecordCalendarEvent(_message.Message):
    __slots__ = ("calendar_event_key", "visibility", "starts_at", "ends_at", "all_day", "organizer", "attendees", "title")
    CALENDAR_EVENT_KEY_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    STARTS_AT_FIELD_NUMBER: _ClassVar[int]
    ENDS_AT_FIELD_NUMBER: _ClassVar[int]
    ALL_DAY_FIELD_NUMBER: _ClassVar[int]
    ORGANIZER_FIELD_NUMBER: _ClassVar[int]
    ATTENDEES_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    calendar_event_key: str
    visibility: VisibilityLevel
    starts_at: _timestamp_pb2.Timestamp
    ends_at: _timestamp_pb2.Timestamp
    all_day: bool
    organizer: str
    attendees: _containers.RepeatedCompositeFieldContainer[CalendarAttendee]
    title: str
    def __init__(self, calendar_event_key: _Optional[str] = ..., visibility: _Optional[_Union[VisibilityLevel, str]] = ..., starts_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ends_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., all_day: _Optional[bool] = ..., organizer: _Optional[str] = ..., attendees: _Optional[_Iterable[_Union[CalendarAttendee, _Mapping]]] = ..., title: _Optional[str] = ...) -> None: ...

class ActivityItem(_message.Message):
    __slots__ = ("email", "calendar_event")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    CALENDAR_EVENT_FIELD_NUMBER: _ClassVar[int]
    email: RecordEmail
    calendar_event: RecordCalendarEvent
    def __init__(self, email: _Optional[_Union[RecordEmail, _Mapping]] = ..., calendar_event: _Optional[_Union[RecordCalendarEvent, _Mapping]] = ...) -> None: ...

class ListRecordActivityResponse(_message.Message):
    __slots__ = ("items", "next_page_token")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[ActivityItem]
    next_page_token: str
    def __init__(self, items: _Optional[_Iterable[_Union[ActivityItem, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetMessageRequest(_message.Message):
    __slots__ = ("message_key",)
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    message_key: str
    def __init__(self, message_key: _Optional[str] = ...) -> None: ...

class MessageAttachment(_message.Message):
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

class GetMessageResponse(_message.Message):
    __slots__ = ("email", "text_body", "html_body", "attachments")
    EMAIL_FIELD_NUMBER: _ClassVar[int]
    TEXT_BODY_FIELD_NUMBER: _ClassVar[int]
    HTML_BODY_FIELD_NUMBER: _ClassVar[int]
    ATTACHMENTS_FIELD_NUMBER: _ClassVar[int]
    email: RecordEmail
    text_body: str
    html_body: str
    attachments: _containers.RepeatedCompositeFieldContainer[MessageAttachment]
    def __init__(self, email: _Optional[_Union[RecordEmail, _Mapping]] = ..., text_body: _Optional[str] = ..., html_body: _Optional[str] = ..., attachments: _Optional[_Iterable[_Union[MessageAttachment, _Mapping]]] = ...) -> None: ...

class GetMessageAttachmentRequest(_message.Message):
    __slots__ = ("message_key", "index")
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    message_key: str
    index: int
    def __init__(self, message_key: _Optional[str] = ..., index: _Optional[int] = ...) -> None: ...

class GetMessageAttachmentResponse(_message.Message):
    __slots__ = ("attachment", "content")
    ATTACHMENT_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    attachment: MessageAttachment
    content: bytes
    def __init__(self, attachment: _Optional[_Union[MessageAttachment, _Mapping]] = ..., content: _Optional[bytes] = ...) -> None: ...

class CheckVisibilityRequest(_message.Message):
    __slots__ = ("message_keys", "viewer_member_id")
    MESSAGE_KEYS_FIELD_NUMBER: _ClassVar[int]
    VIEWER_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    message_keys: _containers.RepeatedScalarFieldContainer[str]
    viewer_member_id: str
    def __init__(self, message_keys: _Optional[_Iterable[str]] = ..., viewer_member_id: _Optional[str] = ...) -> None: ...

class CheckVisibilityResponse(_message.Message):
    __slots__ = ("levels",)
    LEVELS_FIELD_NUMBER: _ClassVar[int]
    levels: _containers.RepeatedScalarFieldContainer[VisibilityLevel]
    def __init__(self, levels: _Optional[_Iterable[_Union[VisibilityLevel, str]]] = ...) -> None: ...

class MailboxSharing(_message.Message):
    __slots__ = ("mailbox_id", "level", "full_access_member_ids")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    FULL_ACCESS_MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    level: VisibilityLevel
    full_access_member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, mailbox_id: _Optional[str] = ..., level: _Optional[_Union[VisibilityLevel, str]] = ..., full_access_member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetMailboxSharingRequest(_message.Message):
    __slots__ = ("mailbox_id",)
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    def __init__(self, mailbox_id: _Optional[str] = ...) -> None: ...

class GetMailboxSharingResponse(_message.Message):
    __slots__ = ("sharing",)
    SHARING_FIELD_NUMBER: _ClassVar[int]
    sharing: MailboxSharing
    def __init__(self, sharing: _Optional[_Union[MailboxSharing, _Mapping]] = ...) -> None: ...

class SetMailboxSharingLevelRequest(_message.Message):
    __slots__ = ("mailbox_id", "level")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    level: VisibilityLevel
    def __init__(self, mailbox_id: _Optional[str] = ..., level: _Optional[_Union[VisibilityLevel, str]] = ...) -> None: ...

class SetMailboxSharingLevelResponse(_message.Message):
    __slots__ = ("sharing",)
    SHARING_FIELD_NUMBER: _ClassVar[int]
    sharing: MailboxSharing
    def __init__(self, sharing: _Optional[_Union[MailboxSharing, _Mapping]] = ...) -> None: ...

class GrantMailboxAccessRequest(_message.Message):
    __slots__ = ("mailbox_id", "member_id")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    member_id: str
    def __init__(self, mailbox_id: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...

class GrantMailboxAccessResponse(_message.Message):
    __slots__ = ("sharing",)
    SHARING_FIELD_NUMBER: _ClassVar[int]
    sharing: MailboxSharing
    def __init__(self, sharing: _Optional[_Union[MailboxSharing, _Mapping]] = ...) -> None: ...

class RevokeMailboxAccessRequest(_message.Message):
    __slots__ = ("mailbox_id", "member_id")
    MAILBOX_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    mailbox_id: str
    member_id: str
    def __init__(self, mailbox_id: _Optional[str] = ..., member_id: _Optional[str] = ...) -> None: ...

class RevokeMailboxAccessResponse(_message.Message):
    __slots__ = ("sharing",)
    SHARING_FIELD_NUMBER: _ClassVar[int]
    sharing: MailboxSharing
    def __init__(self, sharing: _Optional[_Union[MailboxSharing, _Mapping]] = ...) -> None: ...

class RecordSharing(_message.Message):
    __slots__ = ("record_id", "whole_workspace", "member_ids")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    WHOLE_WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    whole_workspace: bool
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, record_id: _Optional[str] = ..., whole_workspace: _Optional[bool] = ..., member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class GetRecordSharingRequest(_message.Message):
    __slots__ = ("record_id",)
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    def __init__(self, record_id: _Optional[str] = ...) -> None: ...

class GetRecordSharingResponse(_message.Message):
    __slots__ = ("sharing",)
    SHARING_FIELD_NUMBER: _ClassVar[int]
    sharing: RecordSharing
    def __init__(self, sharing: _Optional[_Union[RecordSharing, _Mapping]] = ...) -> None: ...

class ShareRecordEmailsRequest(_message.Message):
    __slots__ = ("record_id", "whole_workspace", "member_ids")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    WHOLE_WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    whole_workspace: bool
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, record_id: _Optional[str] = ..., whole_workspace: _Optional[bool] = ..., member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ShareRecordEmailsResponse(_message.Message):
    __slots__ = ("sharing",)
    SHARING_FIELD_NUMBER: _ClassVar[int]
    sharing: RecordSharing
    def __init__(self, sharing: _Optional[_Union[RecordSharing, _Mapping]] = ...) -> None: ...

class UnshareRecordEmailsRequest(_message.Message):
    __slots__ = ("record_id", "whole_workspace", "member_ids")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    WHOLE_WORKSPACE_FIELD_NUMBER: _ClassVar[int]
    MEMBER_IDS_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    whole_workspace: bool
    member_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, record_id: _Optional[str] = ..., whole_workspace: _Optional[bool] = ..., member_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class UnshareRecordEmailsResponse(_message.Message):
    __slots__ = ("sharing",)
    SHARING_FIELD_NUMBER: _ClassVar[int]
    sharing: RecordSharing
    def __init__(self, sharing: _Optional[_Union[RecordSharing, _Mapping]] = ...) -> None: ...

class AccessRequest(_message.Message):
    __slots__ = ("request_id", "requester_member_id", "owner_member_id", "target_kind", "target_key", "note", "state", "requested_at", "decided_at")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REQUESTER_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    OWNER_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    TARGET_KIND_FIELD_NUMBER: _ClassVar[int]
    TARGET_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    requester_member_id: str
    owner_member_id: str
    target_kind: AccessTargetKind
    target_key: str
    note: str
    state: AccessRequestState
    requested_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    def __init__(self, request_id: _Optional[str] = ..., requester_member_id: _Optional[str] = ..., owner_member_id: _Optional[str] = ..., target_kind: _Optional[_Union[AccessTargetKind, str]] = ..., target_key: _Optional[str] = ..., note: _Optional[str] = ..., state: _Optional[_Union[AccessRequestState, str]] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class RequestAccessRequest(_message.Message):
    __slots__ = ("message_key", "thread_key", "record_id", "note")
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    THREAD_KEY_FIELD_NUMBER: _ClassVar[int]
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    message_key: str
    thread_key: str
    record_id: str
    note: str
    def __init__(self, message_key: _Optional[str] = ..., thread_key: _Optional[str] = ..., record_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class RequestAccessResponse(_message.Message):
    __slots__ = ("requests",)
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[AccessRequest]
    def __init__(self, requests: _Optional[_Iterable[_Union[AccessRequest, _Mapping]]] = ...) -> None: ...

class ListAccessRequestsRequest(_message.Message):
    __slots__ = ("direction", "include_decided", "page_size", "page_token")
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DECIDED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    direction: AccessRequestDirection
    include_decided: bool
    page_size: int
    page_token: str
    def __init__(self, direction: _Optional[_Union[AccessRequestDirection, str]] = ..., include_decided: _Optional[bool] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAccessRequestsResponse(_message.Message):
    __slots__ = ("requests", "next_page_token")
    REQUESTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    requests: _containers.RepeatedCompositeFieldContainer[AccessRequest]
    next_page_token: str
    def __init__(self, requests: _Optional[_Iterable[_Union[AccessRequest, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DecideAccessRequestRequest(_message.Message):
    __slots__ = ("request_id", "decision")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    decision: AccessDecision
    def __init__(self, request_id: _Optional[str] = ..., decision: _Optional[_Union[AccessDecision, str]] = ...) -> None: ...

class DecideAccessRequestResponse(_message.Message):
    __slots__ = ("request",)
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    request: AccessRequest
    def __init__(self, request: _Optional[_Union[AccessRequest, _Mapping]] = ...) -> None: ...
