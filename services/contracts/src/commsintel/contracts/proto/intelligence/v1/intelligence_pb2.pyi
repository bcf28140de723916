import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StrengthLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STRENGTH_LEVEL_UNSPECIFIED: _ClassVar[StrengthLevel]
    STRENGTH_LEVEL_VERY_WEAK: _ClassVar[StrengthLevel]
    STRENGTH_LEVEL_WEAK: _ClassVar[StrengthLevel]
    STRENGTH_LEVEL_GOOD: _ClassVar[StrengthLevel]
    STRENGTH_LEVEL_STRONG: _ClassVar[StrengthLevel]
    STRENGTH_LEVEL_VERY_STRONG: _ClassVar[StrengthLevel]
STRENGTH_LEVEL_UNSPECIFIED: StrengthLevel
STRENGTH_LEVEL_VERY_WEAK: StrengthLevel
STRENGTH_LEVEL_WEAK: StrengthLevel
STRENGTH_LEVEL_GOOD: StrengthLevel
STRENGTH_LEVEL_STRONG: StrengthLevel
STRENGTH_LEVEL_VERY_STRONG: StrengthLevel

class InteractionRef(_message.Message):
    __slots__ = ("at", "member_id", "interaction_key")
    AT_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    INTERACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    at: _timestamp_pb2.Timestamp
    member_id: str
    interaction_key: str
    def __init__(self, at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., member_id: _Optional[str] = ..., interaction_key: _Optional[str] = ...) -> None: ...

class MemberStrength(_message.Message):
    __slots__ = ("member_id", "strength", "level")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    strength: float
    level: StrengthLevel
    def __init__(self, member_id: _Optional[str] = ..., strength: _Optional[float] = ..., level: _Optional[_Union[StrengthLevel, str]] = ...) -> None: ...

class RecordIntelligence(_message.Message):
    __slots__ = ("record_id", "first_email_interaction", "last_email_interaction", "email_interaction_count", "connection_strength", "level", "strongest_member_id", "member_strengths", "as_of", "first_interaction", "last_interaction", "first_calendar_interaction", "last_calendar_interaction", "next_calendar_interaction", "meeting_count")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    FIRST_EMAIL_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    LAST_EMAIL_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    EMAIL_INTERACTION_COUNT_FIELD_NUMBER: _ClassVar[int]
    CONNECTION_STRENGTH_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    STRONGEST_MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_STRENGTHS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    FIRST_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    LAST_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    FIRST_CALENDAR_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    LAST_CALENDAR_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    NEXT_CALENDAR_INTERACTION_FIELD_NUMBER: _ClassVar[int]
    MEETING_COUNT_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    first_email_interaction: InteractionRef
    last_email_interaction: InteractionRef
    email_interaction_count: int
    connection_strength: float
    level: StrengthLevel
    strongest_member_id: str
    member_strengths: _containers.RepeatedCompositeFieldContainer[MemberStrength]
    as_of: _timestamp_pb2.Timestamp
    first_interaction: InteractionRef
    last_interaction: InteractionRef
    first_calendar_interaction: InteractionRef
    last_calendar_interaction: InteractionRef
    next_calendar_interaction: InteractionRef
    meeting_count: int
    def __init__(self, record_id: _Optional[str] = ..., first_email_interaction: _Optional[_Union[InteractionRef, _Mapping]] = ..., last_email_interaction: _Optional[_Union[InteractionRef, _Mapping]] = ..., email_interaction_count: _Optional[int] = ..., connection_strength: _Optional[float] = ..., level: _Optional[_Union[StrengthLevel, str]] = ..., strongest_member_id: _Optional[str] = ..., member_strengths: _Optional[_Iterable[_Union[MemberStrength, _Mapping]]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_interaction: _Optional[_Union[InteractionRef, _Mapping]] = ..., last_interaction: _Optional[_Union[InteractionRef, _Mapping]] = ..., first_calendar_interaction: _Optional[_Union[InteractionRef, _Mapping]] = ..., last_calendar_interaction: _Optional[_Union[InteractionRef, _Mapping]] = ..., next_calendar_interaction: _Optional[_Union[InteractionRef, _Mapping]] = ..., meeting_count: _Optional[int] = ...) -> None: ...

class GetRecordIntelligenceRequest(_message.Message):
    __slots__ = ("record_id", "as_of")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, record_id: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class GetRecordIntelligenceResponse(_message.Message):
    __slots__ = ("intelligence",)
    INTELLIGENCE_FIELD_NUMBER: _ClassVar[int]
    intelligence: RecordIntelligence
    def __init__(self, intelligence: _Optional[_Union[RecordIntelligence, _Mapping]] = ...) -> None: ...

class ListStrongestConnectionsRequest(_message.Message):
    __slots__ = ("limit", "as_of", "member_id")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    limit: int
    as_of: _timestamp_pb2.Timestamp
    member_id: str
    def __init__(self, limit: _Optional[int] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., member_id: _Optional[str] = ...) -> None: ...

class ListStrongestConnectionsResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[RecordIntelligence]
    def __init__(self, records: _Optional[_Iterable[_Union[RecordIntelligence, _Mapping]]] = ...) -> None: ...

class ExplainStrengthRequest(_message.Message):
    __slots__ = ("record_id", "member_id", "as_of", "top")
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    member_id: str
    as_of: _timestamp_pb2.Timestamp
    top: int
    def __init__(self, record_id: _Optional[str] = ..., member_id: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., top: _Optional[int] = ...) -> None: ...

class Contribution(_message.Message):
    __slots__ = ("interaction", "reason", "weight")
    INTERACTION_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    WEIGHT_FIELD_NUMBER: _ClassVar[int]
    interaction: InteractionRef
    reason: str
    weight: float
    def __init__(self, interaction: _Optional[_Union[InteractionRef, _Mapping]] = ..., reason: _Optional[str] = ..., weight: _Optional[float] = ...) -> None: ...

class ExplainStrengthResponse(_message.Message):
    __slots__ = ("member_id", "strength", "level", "by_reason", "top_contributions", "as_of")
    class ByReasonEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    BY_REASON_FIELD_NUMBER: _ClassVar[int]
    TOP_CONTRIBUTIONS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    strength: float
    level: StrengthLevel
    by_reason: _containers.ScalarMap[str, float]
    top_contributions: _containers.RepeatedCompositeFieldContainer[Contribution]
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, member_id: _Optional[str] = ..., strength: _Optional[float] = ..., level: _Optional[_Union[StrengthLevel, str]] = ..., by_reason: _Optional[_Mapping[str, float]] = ..., top_contributions: _Optional[_Iterable[_Union[Contribution, _Mapping]]] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...
