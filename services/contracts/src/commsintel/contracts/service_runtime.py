"""One service's moving parts, started in order and stopped in reverse: its MongoDB
indexes, its Kafka broker (consumers and producer), and, when it serves one, its gRPC
server with health checking, reflection and the caller interceptor."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

import grpc
from faststream.kafka import KafkaBroker
from pymongo import AsyncMongoClient

from commsintel.contracts.grpc_runtime import start_grpc_server


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
    grpc_server: grpc.aio.Server | None = None
    grpc_port: int = 0

    async def start(self) -> None:
        await self.prepare_store()
        await self.broker.start()
        if self.grpc_endpoint is not None:
            endpoint = self.grpc_endpoint
            self.grpc_server, self.grpc_port = await start_grpc_server(
                endpoint.bind, endpoint.register, endpoint.service_names, endpoint.interceptors
            )

    async def stop(self) -> None:
        if self.grpc_server is not None:
            await self.grpc_server.stop(grace=2)
        for close in self.closers:
            await close()
        await self.broker.stop()
        await self.mongo.close()
