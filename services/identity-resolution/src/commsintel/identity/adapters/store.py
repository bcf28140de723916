"""Identity's MongoDB projections: people, companies and each workspace's directory."""

from __future__ import annotations

from collections.abc import Iterable

from pymongo import UpdateOne
from pymongo.asynchronous.database import AsyncDatabase

from commsintel.contracts import ids
from commsintel.identity.domain.resolution import (
    KnownPerson,
    NewCompany,
    NewPerson,
    RecordBook,
    WorkspaceDirectory,
)


class IdentityStore:
    def __init__(self, database: AsyncDatabase) -> None:
        self._people = database["people"]
        self._companies = database["companies"]
        self._directories = database["directories"]

    async def ensure_indexes(self) -> None:
        await self._people.create_index([("workspace_id", 1), ("address", 1)])
        await self._companies.create_index([("workspace_id", 1), ("domain", 1)])

    async def directory(self, workspace_id: str) -> WorkspaceDirectory:
        document = await self._directories.find_one({"_id": workspace_id})
        if document is None:
            return WorkspaceDirectory()
        return WorkspaceDirectory(
            frozenset(document["member_addresses"]), frozenset(document["own_domains"])
        )

    async def save_directory(self, workspace_id: str, directory: WorkspaceDirectory) -> None:
        await self._directories.replace_one(
            {"_id": workspace_id},
            {
                "member_addresses": sorted(directory.member_addresses),
                "own_domains": sorted(directory.own_domains),
            },
            upsert=True,
        )

    async def record_book(
        self, workspace_id: str, addresses: Iterable[str], domains: Iterable[str]
    ) -> RecordBook:
        """The existing records among these addresses and domains (ids are derived, so
        one `$in` on `_id` finds them)."""
        book = RecordBook()
        person_ids = [ids.person_id(workspace_id, a) for a in addresses]
        async for person in self._people.find({"_id": {"$in": person_ids}}):
            book.people[person["address"]] = KnownPerson(person["_id"], person.get("company_id"))
        company_ids = [ids.company_id(workspace_id, d) for d in domains]
        async for company in self._companies.find({"_id": {"$in": company_ids}}):
            book.companies[company["domain"]] = company["_id"]
        return book

    async def save_records(
        self, workspace_id: str, people: list[NewPerson], companies: list[NewCompany]
    ) -> None:
        # Upserts with $setOnInsert: a redelivered batch changes nothing.
        if companies:
            await self._companies.bulk_write(
                [
                    UpdateOne(
                        {"_id": c.company_id},
                        {
                            "$setOnInsert": {
                                "workspace_id": workspace_id,
                                "domain": c.domain,
                                "name": c.name,
                            }
                        },
                        upsert=True,
                    )
                    for c in companies
                ],
                ordered=False,
            )
        if people:
            await self._people.bulk_write(
                [
                    UpdateOne(
                        {"_id": p.person_id},
                        {
                            "$setOnInsert": {
                                "workspace_id": workspace_id,
                                "address": p.address,
                                "display_name": p.display_name,
                                "company_id": p.company_id,
                            }
                        },
                        upsert=True,
                    )
                    for p in people
                ],
                ordered=False,
            )
