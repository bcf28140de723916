"""WorkspaceService and IdentityService servicers: request -> domain -> response.

Commands are checked by the domain, published as events, and answered once the
identity consumer has applied them (a receipt in the store), so the caller's next query
already reflects the change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from commsintel.contracts import ids
from commsintel.contracts.errors import InvalidValue, UnknownItem
from commsintel.contracts.events import EnrichmentSource, RecordEnriched
from commsintel.contracts.proto.identity.v1 import identity_pb2 as pb
from commsintel.contracts.proto.identity.v1 import identity_pb2_grpc as pb_grpc
from commsintel.identity.domain import workspace
from commsintel.identity.domain.addresses import normalize_address, registrable_domain
from commsintel.identity.domain.enrichment import LIST_FIELDS, PERSON_FIELDS, combined_fields
from commsintel.identity.domain.merging import unmerge
from commsintel.identity.domain.model import (
    Company,
    IdentitySlice,
    MergeRecord,
    Person,
    SourcedValue,
)
from commsintel.identity.ports import IdentityQueries
from commsintel.platform.api_values import (
    cursor_field,
    decode_page_token,
    next_page_token,
    page_size,
    timestamp,
)
from commsintel.platform.commands import CommandGateway
from commsintel.platform.grpc_runtime import current_caller

MAX_PAGE = 500
_SOURCES = {
    "display_name": pb.VALUE_SOURCE_DISPLAY_NAME,
    "signature": pb.VALUE_SOURCE_SIGNATURE,
    "domain": pb.VALUE_SOURCE_DOMAIN,
    "user": pb.VALUE_SOURCE_USER,
}
Clock = Callable[[], datetime]


class WorkspaceServicer(pb_grpc.WorkspaceServiceServicer):
    def __init__(self, store: IdentityQueries, gateway: CommandGateway, clock: Clock) -> None:
        self._store = store
        self._gateway = gateway
        self._clock = clock

    async def _run(self, command, **arguments) -> pb.WorkspaceSettings:
        caller = current_caller()
        settings = await self._store.settings(caller.workspace_id)
        event = command(settings, caller=caller.member_id, at=self._clock(), **arguments)
        await self._gateway.submit([event])
        return _settings_pb(await self._store.settings(caller.workspace_id))

    async def AddMember(self, request, context):
        settings = await self._run(
            workspace.add_member,
            member_id=request.member_id,
            addresses=list(request.addresses),
            is_admin=request.is_admin,
            by_operator=current_caller().is_operator,
        )
        return pb.AddMemberResponse(settings=settings)

    async def RemoveMember(self, request, context):
        settings = await self._run(workspace.remove_member, member_id=request.member_id)
        return pb.RemoveMemberResponse(settings=settings)

    async def AddOwnDomain(self, request, context):
        settings = await self._run(workspace.add_own_domain, domain=request.domain)
        return pb.AddOwnDomainResponse(settings=settings)

    async def RemoveOwnDomain(self, request, context):
        settings = await self._run(workspace.remove_own_domain, domain=request.domain)
        return pb.RemoveOwnDomainResponse(settings=settings)

    async def SetEnhancedRecordCreation(self, request, context):
        settings = await self._run(workspace.set_enhanced_record_creation, enabled=request.enabled)
        return pb.SetEnhancedRecordCreationResponse(settings=settings)

    async def GetWorkspaceSettings(self, request, context):
        settings = await self._store.settings(current_caller().workspace_id)
        return pb.GetWorkspaceSettingsResponse(settings=_settings_pb(settings))


class IdentityServicer(pb_grpc.IdentityServiceServicer):
    def __init__(self, store: IdentityQueries, gateway: CommandGateway, clock: Clock) -> None:
        self._store = store
        self._gateway = gateway
        self._clock = clock

    async def GetPerson(self, request, context):
        person = await self._live_person(request.person_id)
        return pb.GetPersonResponse(person=await self._person_pb(person))

    async def GetCompany(self, request, context):
        if not request.company_id:
            raise InvalidValue("company_id is required")
        company = await self._store.company(current_caller().workspace_id, request.company_id)
        if company is None:
            raise UnknownItem(f"company {request.company_id} not found")
        return pb.GetCompanyResponse(company=_company_pb(company))

    async def FindByEmail(self, request, context):
        address = normalize_address(request.email_address)
        if address is None:
            raise InvalidValue(f"{request.email_address!r} is not an email address")
        contact = await self._store.contact(current_caller().workspace_id, address)
        if contact is None or contact.person_id is None:
            return pb.FindByEmailResponse()
        person = await self._live_person(contact.person_id)
        return pb.FindByEmailResponse(person=await self._person_pb(person))

    async def ListPeople(self, request, context):
        size = page_size(request.page_size, default=50, maximum=MAX_PAGE)
        after = _after(request.page_token)
        people = await self._store.people_page(
            current_caller().workspace_id,
            company_id=request.company_id or None,
            after=after,
            limit=size + 1,
        )
        token = next_page_token(people, size, lambda p: {"after": p.person_id})
        return pb.ListPeopleResponse(
            people=[await self._person_pb(p) for p in people[:size]], next_page_token=token
        )

    async def ListCompanies(self, request, context):
        size = page_size(request.page_size, default=50, maximum=MAX_PAGE)
        after = _after(request.page_token)
        domain = None
        if request.domain:
            domain = registrable_domain(request.domain)
            if domain is None:
                raise InvalidValue(f"{request.domain!r} is not a registrable domain")
        companies = await self._store.companies_page(
            current_caller().workspace_id, domain=domain, after=after, limit=size + 1
        )
        token = next_page_token(companies, size, lambda c: {"after": c.company_id})
        return pb.ListCompaniesResponse(
            companies=[_company_pb(c) for c in companies[:size]], next_page_token=token
        )

    async def ExplainRecord(self, request, context):
        if not request.record_id:
            raise InvalidValue("record_id is required")
        ws = current_caller().workspace_id
        person = await self._store.person(ws, request.record_id)
        if person is not None:
            return pb.ExplainRecordResponse(
                created_because=person.created_because, merges=[_merge_pb(m) for m in person.merges]
            )
        company = await self._store.company(ws, request.record_id)
        if company is None:
            raise UnknownItem(f"record {request.record_id} not found")
        because = (
            f"a person record has an address on {company.domains[0]}, a company domain "
            "(not free mail, not the workspace's own)"
        )
        return pb.ExplainRecordResponse(created_because=because)

    async def ExplainMerge(self, request, context):
        merged = await self._person(request.merged_person_id)
        if merged.merged_into is None:
            raise UnknownItem(f"person {merged.person_id} is not merged into another record")
        survivor = await self._person(merged.merged_into)
        record = next((m for m in survivor.merges if m.merged_id == merged.person_id), None)
        if record is None:
            raise UnknownItem(f"no merge of {merged.person_id} into {survivor.person_id} recorded")
        return pb.ExplainMergeResponse(merge=_merge_pb(record))

    async def Unmerge(self, request, context):
        caller = current_caller()
        merged = await self._person(request.merged_person_id)
        state = IdentitySlice(await self._store.settings(caller.workspace_id))
        await self._store.load_people(state, [merged.person_id])
        event = unmerge(
            state, restored_id=merged.person_id, caller=caller.member_id, at=self._clock()
        )
        await self._gateway.submit([event])
        survivor = await self._live_person(event.survivor_id)
        restored = await self._person(event.restored_id)
        return pb.UnmergeResponse(
            survivor=await self._person_pb(survivor), restored=await self._person_pb(restored)
        )

    async def SetPersonField(self, request, context):
        caller = current_caller()
        if request.field not in PERSON_FIELDS:
            raise InvalidValue(f"field must be one of {', '.join(PERSON_FIELDS)}")
        values = tuple(v.strip() for v in request.values if v.strip())
        if not values or (request.field not in LIST_FIELDS and len(values) != 1):
            raise InvalidValue(
                f"{request.field} takes exactly one non-empty value"
                if request.field not in LIST_FIELDS
                else f"{request.field} takes at least one non-empty value"
            )
        person = await self._live_person(request.person_id)
        at = self._clock()
        await self._gateway.submit(
            [
                RecordEnriched(
                    event_id=ids.event_id(
                        caller.workspace_id,
                        "RecordEnriched",
                        person.person_id,
                        request.field,
                        "user",
                        at.isoformat(),
                    ),
                    workspace_id=caller.workspace_id,
                    record_id=person.person_id,
                    record_kind="person",
                    field=request.field,
                    value=values if request.field in LIST_FIELDS else values[0],
                    source=EnrichmentSource(
                        kind="user", member_id=caller.member_id, observed_at=at
                    ),
                )
            ]
        )
        return pb.SetPersonFieldResponse(
            person=await self._person_pb(await self._person(person.person_id))
        )

    async def _person(self, person_id: str) -> Person:
        if not person_id:
            raise InvalidValue("person_id is required")
        person = await self._store.person(current_caller().workspace_id, person_id)
        if person is None:
            raise UnknownItem(f"person {person_id} not found")
        return person

    async def _live_person(self, person_id: str) -> Person:
        """A merged-away id answers with the record it was merged into."""
        person = await self._person(person_id)
        while person.merged_into is not None:
            person = await self._person(person.merged_into)
        return person

    async def _person_pb(self, person: Person) -> pb.Person:
        ws = current_caller().workspace_id
        absorbed = [p for p in [await self._store.person(ws, i) for i in person.absorbed] if p]
        company_id = person.company_id or next(
            (p.company_id for p in absorbed if p.company_id), None
        )
        return pb.Person(
            person_id=person.person_id,
            email_addresses=[person.address, *(p.address for p in absorbed)],
            company_id=company_id or "",
            fields={n: _value_pb(v) for n, v in combined_fields([person, *absorbed]).items()},
            merged_person_ids=person.absorbed,
        )


def _settings_pb(settings: workspace.WorkspaceSettings) -> pb.WorkspaceSettings:
    return pb.WorkspaceSettings(
        members=[
            pb.Member(member_id=m.member_id, addresses=m.addresses, is_admin=m.is_admin)
            for m in settings.members
        ],
        own_domains=sorted(settings.declared_domains),
        enhanced_record_creation=settings.enhanced_record_creation,
    )


def _company_pb(company: Company) -> pb.Company:
    return pb.Company(
        company_id=company.company_id,
        domains=company.domains,
        fields={name: _value_pb(v) for name, v in company.fields.items()},
    )


def _value_pb(value: SourcedValue) -> pb.SourcedValue:
    return pb.SourcedValue(
        values=value.values,
        source=_SOURCES[value.source],
        message_key=value.message_key or "",
        member_id=value.member_id or "",
        observed_at=timestamp(value.observed_at),
    )


def _merge_pb(merge: MergeRecord) -> pb.MergeExplanation:
    return pb.MergeExplanation(
        survivor_id=merge.survivor_id,
        merged_id=merge.merged_id,
        automatic=merge.automatic,
        merged_by=merge.merged_by or "",
        rule=merge.rule,
        description=merge.description,
        message_key=merge.message_key or "",
        addresses=merge.addresses,
        names=merge.names,
        merged_at=timestamp(merge.merged_at),
    )


def _after(token: str) -> str:
    """The id a page token continues after ("" for the first page)."""
    cursor = decode_page_token(token)
    return cursor_field(cursor, "after", str) if cursor else ""
