import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ValueSource(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VALUE_SOURCE_UNSPECIFIED: _ClassVar[ValueSource]
    VALUE_SOURCE_DISPLAY_NAME: _ClassVar[ValueSource]
    VALUE_SOURCE_SIGNATURE: _ClassVar[ValueSource]
    VALUE_SOURCE_DOMAIN: _ClassVar[ValueSource]
    VALUE_SOURCE_USER: _ClassVar[ValueSource]
VALUE_SOURCE_UNSPECIFIED: ValueSource
VALUE_SOURCE_DISPLAY_NAME: ValueSource
VALUE_SOURCE_SIGNATURE: ValueSource
VALUE_SOURCE_DOMAIN: ValueSource
VALUE_SOURCE_USER: ValueSource

class Member(_message.Message):
    __slots__ = ("member_id", "addresses", "is_admin")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    is_admin: bool
    def __init__(self, member_id: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ..., is_admin: _Optional[bool] = ...) -> None: ...

class WorkspaceSettings(_message.Message):
    __slots__ = ("members", "own_domains", "enhanced_record_creation")
    MEMBERS_FIELD_NUMBER: _ClassVar[int]
    OWN_DOMAINS_FIELD_NUMBER: _ClassVar[int]
    ENHANCED_RECORD_CREATION_FIELD_NUMBER: _ClassVar[int]
    members: _containers.RepeatedCompositeFieldContainer[Member]
    own_domains: _containers.RepeatedScalarFieldContainer[str]
    enhanced_record_creation: bool
    def __init__(self, members: _Optional[_Iterable[_Union[Member, _Mapping]]] = ..., own_domains: _Optional[_Iterable[str]] = ..., enhanced_record_creation: _Optional[bool] = ...) -> None: ...

class AddMemberRequest(_message.Message):
    __slots__ = ("member_id", "addresses", "is_admin")
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    IS_ADMIN_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    is_admin: bool
    def __init__(self, member_id: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ..., is_admin: _Optional[bool] = ...) -> None: ...

class AddMemberResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: WorkspaceSettings
    def __init__(self, settings: _Optional[_Union[WorkspaceSettings, _Mapping]] = ...) -> None: ...

class RemoveMemberRequest(_message.Message):
    __slots__ = ("member_id",)
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    member_id: str
    def __init__(self, member_id: _Optional[str] = ...) -> None: ...

class RemoveMemberResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: WorkspaceSettings
    def __init__(self, settings: _Optional[_Union[WorkspaceSettings, _Mapping]] = ...) -> None: ...

class AddOwnDomainRequest(_message.Message):
    __slots__ = ("domain",)
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    domain: str
    def __init__(self, domain: _Optional[str] = ...) -> None: ...

class AddOwnDomainResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: WorkspaceSettings
    def __init__(self, settings: _Optional[_Union[WorkspaceSettings, _Mapping]] = ...) -> None: ...

class RemoveOwnDomainRequest(_message.Message):
    __slots__ = ("domain",)
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    domain: str
    def __init__(self, domain: _Optional[str] = ...) -> None: ...

class RemoveOwnDomainResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: WorkspaceSettings
    def __init__(self, settings: _Optional[_Union[WorkspaceSettings, _Mapping]] = ...) -> None: ...

class SetEnhancedRecordCreationRequest(_message.Message):
    __slots__ = ("enabled",)
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    enabled: bool
    def __init__(self, enabled: _Optional[bool] = ...) -> None: ...

class SetEnhancedRecordCreationResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: WorkspaceSettings
    def __init__(self, settings: _Optional[_Union[WorkspaceSettings, _Mapping]] = ...) -> None: ...

class GetWorkspaceSettingsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetWorkspaceSettingsResponse(_message.Message):
    __slots__ = ("settings",)
    SETTINGS_FIELD_NUMBER: _ClassVar[int]
    settings: WorkspaceSettings
    def __init__(self, settings: _Optional[_Union[WorkspaceSettings, _Mapping]] = ...) -> None: ...

class SourcedValue(_message.Message):
    __slots__ = ("values", "source", "message_key", "member_id", "observed_at")
    VALUES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    MEMBER_ID_FIELD_NUMBER: _ClassVar[int]
    OBSERVED_AT_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    source: ValueSource
    message_key: str
    member_id: str
    observed_at: _timestamp_pb2.Timestamp
    def __init__(self, values: _Optional[_Iterable[str]] = ..., source: _Optional[_Union[ValueSource, str]] = ..., message_key: _Optional[str] = ..., member_id: _Optional[str] = ..., observed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Person(_message.Message):
    __slots__ = ("person_id", "email_addresses", "company_id", "fields", "merged_person_ids")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: SourcedValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[SourcedValue, _Mapping]] = ...) -> None: ...
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    EMAIL_ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    MERGED_PERSON_IDS_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    email_addresses: _containers.RepeatedScalarFieldContainer[str]
    company_id: str
    fields: _containers.MessageMap[str, SourcedValue]
    merged_person_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, person_id: _Optional[str] = ..., email_addresses: _Optional[_Iterable[str]] = ..., company_id: _Optional[str] = ..., fields: _Optional[_Mapping[str, SourcedValue]] = ..., merged_person_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class Company(_message.Message):
    __slots__ = ("company_id", "domains", "fields")
    class FieldsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: SourcedValue
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[SourcedValue, _Mapping]] = ...) -> None: ...
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    DOMAINS_FIELD_NUMBER: _ClassVar[int]
    FIELDS_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    domains: _containers.RepeatedScalarFieldContainer[str]
    fields: _containers.MessageMap[str, SourcedValue]
    def __init__(self, company_id: _Optional[str] = ..., domains: _Optional[_Iterable[str]] = ..., fields: _Optional[_Mapping[str, SourcedValue]] = ...) -> None: ...

class GetPersonRequest(_message.Message):
    __slots__ = ("person_id",)
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    def __init__(self, person_id: _Optional[str] = ...) -> None: ...

class GetPersonResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class GetCompanyRequest(_message.Message):
    __slots__ = ("company_id",)
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    company_id: str
    def __init__(self, company_id: _Optional[str] = ...) -> None: ...

class GetCompanyResponse(_message.Message):
    __slots__ = ("company",)
    COMPANY_FIELD_NUMBER: _ClassVar[int]
    company: Company
    def __init__(self, company: _Optional[_Union[Company, _Mapping]] = ...) -> None: ...

class FindByEmailRequest(_message.Message):
    __slots__ = ("email_address",)
    EMAIL_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    email_address: str
    def __init__(self, email_address: _Optional[str] = ...) -> None: ...

class FindByEmailResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class ListPeopleRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "company_id")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    COMPANY_ID_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    company_id: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., company_id: _Optional[str] = ...) -> None: ...

class ListPeopleResponse(_message.Message):
    __slots__ = ("people", "next_page_token")
    PEOPLE_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    people: _containers.RepeatedCompositeFieldContainer[Person]
    next_page_token: str
    def __init__(self, people: _Optional[_Iterable[_Union[Person, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListCompaniesRequest(_message.Message):
    __slots__ = ("page_size", "page_token", "domain")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    DOMAIN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    domain: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., domain: _Optional[str] = ...) -> None: ...

class ListCompaniesResponse(_message.Message):
    __slots__ = ("companies", "next_page_token")
    COMPANIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    companies: _containers.RepeatedCompositeFieldContainer[Company]
    next_page_token: str
    def __init__(self, companies: _Optional[_Iterable[_Union[Company, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ExplainRecordRequest(_message.Message):
    __slots__ = ("record_id",)
    RECORD_ID_FIELD_NUMBER: _ClassVar[int]
    record_id: str
    def __init__(self, record_id: _Optional[str] = ...) -> None: ...

class ExplainRecordResponse(_message.Message):
    __slots__ = ("created_because", "merges")
    CREATED_BECAUSE_FIELD_NUMBER: _ClassVar[int]
    MERGES_FIELD_NUMBER: _ClassVar[int]
    created_because: str
    merges: _containers.RepeatedCompositeFieldContainer[MergeExplanation]
    def __init__(self, created_because: _Optional[str] = ..., merges: _Optional[_Iterable[_Union[MergeExplanation, _Mapping]]] = ...) -> None: ...

class MergeExplanation(_message.Message):
    __slots__ = ("survivor_id", "merged_id", "automatic", "merged_by", "rule", "description", "message_key", "addresses", "names", "merged_at")
    SURVIVOR_ID_FIELD_NUMBER: _ClassVar[int]
    MERGED_ID_FIELD_NUMBER: _ClassVar[int]
    AUTOMATIC_FIELD_NUMBER: _ClassVar[int]
    MERGED_BY_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_KEY_FIELD_NUMBER: _ClassVar[int]
    ADDRESSES_FIELD_NUMBER: _ClassVar[int]
    NAMES_FIELD_NUMBER: _ClassVar[int]
    MERGED_AT_FIELD_NUMBER: _ClassVar[int]
    survivor_id: str
    merged_id: str
    automatic: bool
    merged_by: str
    rule: str
    description: str
    message_key: str
    addresses: _containers.RepeatedScalarFieldContainer[str]
    names: _containers.RepeatedScalarFieldContainer[str]
    merged_at: _timestamp_pb2.Timestamp
    def __init__(self, survivor_id: _Optional[str] = ..., merged_id: _Optional[str] = ..., automatic: _Optional[bool] = ..., merged_by: _Optional[str] = ..., rule: _Optional[str] = ..., description: _Optional[str] = ..., message_key: _Optional[str] = ..., addresses: _Optional[_Iterable[str]] = ..., names: _Optional[_Iterable[str]] = ..., merged_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ExplainMergeRequest(_message.Message):
    __slots__ = ("merged_person_id",)
    MERGED_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    merged_person_id: str
    def __init__(self, merged_person_id: _Optional[str] = ...) -> None: ...

class ExplainMergeResponse(_message.Message):
    __slots__ = ("merge",)
    MERGE_FIELD_NUMBER: _ClassVar[int]
    merge: MergeExplanation
    def __init__(self, merge: _Optional[_Union[MergeExplanation, _Mapping]] = ...) -> None: ...

class UnmergeRequest(_message.Message):
    __slots__ = ("merged_person_id",)
    MERGED_PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    merged_person_id: str
    def __init__(self, merged_person_id: _Optional[str] = ...) -> None: ...

class UnmergeResponse(_message.Message):
    __slots__ = ("survivor", "restored")
    SURVIVOR_FIELD_NUMBER: _ClassVar[int]
    RESTORED_FIELD_NUMBER: _ClassVar[int]
    survivor: Person
    restored: Person
    def __init__(self, survivor: _Optional[_Union[Person, _Mapping]] = ..., restored: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...

class SetPersonFieldRequest(_message.Message):
    __slots__ = ("person_id", "field", "values")
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    FIELD_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    person_id: str
    field: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, person_id: _Optional[str] = ..., field: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class SetPersonFieldResponse(_message.Message):
    __slots__ = ("person",)
    PERSON_FIELD_NUMBER: _ClassVar[int]
    person: Person
    def __init__(self, person: _Optional[_Union[Person, _Mapping]] = ...) -> None: ...
