"""What `commsintel replay <service>` needs of a service: its input topics, the handler of
each batch, and what to do before the first batch and after the last. Each service's
`bootstrap.build_replay` makes one; the generic loop in `commsintel.replay` runs it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from commsintel.contracts.events import Event

Step = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ProjectionRebuild:
    kafka_bootstrap: str
    topics: Sequence[str]
    handle: Callable[[Sequence[Event]], Awaitable[None]]
    # Drops the service's database (and builds its indexes, unless `finish` does).
    prepare: Step
    close: Step
    # Called after the last batch, for a handler that writes at the end.
    finish: Step | None = None


def emptied_database(mongo: Any, database: str, *then: Step) -> Step:
    """The `prepare` of a rebuild: drop the database, then `then` (its indexes)."""

    async def prepare() -> None:
        await mongo.drop_database(database)
        for step in then:
            await step()

    return prepare
