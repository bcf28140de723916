"""People and companies as identity-resolution knows them, read over its gRPC API on
behalf of the calling member (their token is forwarded), for personalized sending."""

from __future__ import annotations

from dataclasses import dataclass

import grpc

from commsintel.contracts.errors import TryAgainLater, UnknownItem
from commsintel.contracts.proto.identity.v1 import identity_pb2 as pb
from commsintel.contracts.proto.identity.v1 import identity_pb2_grpc as pb_grpc
from commsintel.platform.grpc_runtime import caller_metadata

TIMEOUT_SECONDS = 5.0


@dataclass(frozen=True, slots=True)
class PersonCard:
    person_id: str
    address: str
    name: str = ""
    job_title: str = ""
    phone: str = ""
    company_name: str = ""
    company_domain: str = ""
    company_description: str = ""


class RecordDirectory:
    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._identity = pb_grpc.IdentityServiceStub(channel)

    async def person(self, person_id: str) -> PersonCard:
        try:
            person = (
                await self._identity.GetPerson(
                    pb.GetPersonRequest(person_id=person_id),
                    metadata=caller_metadata(),
                    timeout=TIMEOUT_SECONDS,
                )
            ).person
            company = None
            if person.company_id:
                company = (
                    await self._identity.GetCompany(
                        pb.GetCompanyRequest(company_id=person.company_id),
                        metadata=caller_metadata(),
                        timeout=TIMEOUT_SECONDS,
                    )
                ).company
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                raise UnknownItem(f"no person {person_id}") from None
            raise TryAgainLater(f"identity-resolution did not answer: {error.details()}") from None
        return PersonCard(
            person_id=person.person_id,
            address=person.email_addresses[0] if person.email_addresses else "",
            name=_first(person.fields, "name"),
            job_title=_first(person.fields, "job_title"),
            phone=_first(person.fields, "phone_numbers"),
            company_name=_first(company.fields, "name") if company else "",
            company_domain=company.domains[0] if company and company.domains else "",
            company_description=_first(company.fields, "description") if company else "",
        )


def _first(fields, name: str) -> str:
    value = fields.get(name)
    return value.values[0] if value is not None and value.values else ""
