"""One service's moving parts, started in order and stopped in reverse: its MongoDB
indexes, its Kafka broker (consumers and producer), and, when it serves one, its gRPC
server with health checking, reflection and the caller interceptor.

Health: `liveness` says the process runs; readiness ("" and each service name) waits
until the consumer group has given this instance its partitions, and the log says so
while it waits. Nothing in start-up waits for the group, so a group that is slow to
settle never hangs the process (docs/decisions/0022)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc
from faststream.kafka import KafkaBroker
from grpc_health.v1 import health, health_pb2
from pymongo import AsyncMongoClient

from commsintel.platform.grpc_runtime import start_grpc_server
from commsintel.platform.streaming import GroupMembership

log = logging.getLogger(__name__)

# How often the log repeats that readiness still waits for the group.
READINESS_REMINDER_SECONDS = 10.0


@dataclass
class GrpcEndpoint:
    bind: str
    register: Callable[[grpc.aio.Server], None]
    service_names: Sequence[str]
    interceptors: Sequence[grpc.aio.ServerInterceptor] = ()


@dataclass
class ServiceRuntime:
    name: str
    broker: KafkaBroker
    mongo: AsyncMongoClient
    prepare_store: Callable[[], Awaitable[None]]
    grpc_endpoint: GrpcEndpoint | None = None
    # Anything else to close on stop, after the gRPC server (e.g. client channels).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # The consumer group whose assignment readiness waits for (None: ready at start).
    membership: GroupMembership | None = None
    grpc_server: grpc.aio.Server | None = None
    grpc_port: int = 0
    _readiness: asyncio.Task | None = None

    async def start(self) -> None:
        await self.prepare_store()
        await self.broker.start()
        if self.grpc_endpoint is not None:
            endpoint = self.grpc_endpoint
            health_servicer = health.aio.HealthServicer() if self.membership else None
            self.grpc_server, self.grpc_port = await start_grpc_server(
                endpoint.bind,
                endpoint.register,
                endpoint.service_names,
                endpoint.interceptors,
                health_servicer,
            )
            if health_servicer is not None:
                self._readiness = asyncio.get_running_loop().create_task(
                    self._ready_when_assigned(health_servicer, endpoint.service_names)
                )

    async def _ready_when_assigned(self, health_servicer, service_names) -> None:
        membership = self.membership
        assert membership is not None
        while True:
            try:
                await asyncio.wait_for(membership.assigned.wait(), READINESS_REMINDER_SECONDS)
                break
            except TimeoutError:
                log.warning(
                    "%s not ready: waiting for consumer group %s to assign partitions",
                    self.name,
                    membership.group_id,
                )
        for name in ("", *service_names):
            await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)

    async def stop(self) -> None:
        if self._readiness is not None:
            self._readiness.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._readiness
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace=2)
        for close in self.closers:
            await close()
        await self.broker.stop()
        await self.mongo.close()
