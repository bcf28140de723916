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
RECORD_KIND_UNSPECIFIED: RecordKind
RECORD_KIND_PERSON: RecordKind
RECORD_KIND_COMPANY: RecordKind
VISIBILITY_LEVEL_UNSPECIFIED: VisibilityLevel
VISIBILITY_LEVEL_NONE: VisibilityLevel
VISIBILITY_LEVEL_METADATA: VisibilityLevel
VISIBILITY_LEVEL_SUBJECT: VisibilityLevel
VISIBILITY_LEVEL_FULL: VisibilityLevel

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
    __slots__ = ("message_key", "visibility", "sent_at", "participants", "subject", "can_request_access")
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    VISIBILITY_FIELD_NUMBER: _ClassVar[int]
    SENT_AT_FIELD_NUMBER: _ClassVar[int]
    PARTICIPANTS_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    CAN_REQUEST_ACCESS_FIELD_NUMBER: _ClassVar[int]
    message_key: str
    visibility: VisibilityLevel
    sent_at: _timestamp_pb2.Timestamp
    participants: _containers.RepeatedCompositeFieldContainer[EmailParticipant]
    subject: str
    can_request_access: bool
    def __init__(self, message_key: _Optional[str] = ..., visibility: _Optional[_Union[VisibilityLevel, str]] = ..., sent_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., participants: _Optional[_Iterable[_Union[EmailParticipant, _Mapping]]] = ..., subject: _Optional[str] = ..., can_request_access: _Optional[bool] = ...) -> None: ...

class ListRecordEmailsResponse(_message.Message):
    __slots__ = ("emails", "next_page_token")
    EMAILS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    emails: _containers.RepeatedCompositeFieldContainer[RecordEmail]
    next_page_token: str
    def __init__(self, emails: _Optional[_Iterable[_Union[RecordEmail, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
