"""Each service in its own `commsintel serve` process, as in production (fault tests,
several-instance tests and benchmarks), and the wait for a gRPC server to report SERVING."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from pydantic import SecretStr

from commsintel.embedded import free_port
from commsintel.pipeline import SERVICES, PipelineConfig, ensure_topics


@dataclass
class ProcessPipeline:
    """Each service in its own `commsintel serve` process, as in production."""

    config: PipelineConfig
    log_dir: Path
    access_port: int
    intelligence_port: int
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    # Access fetches bodies from ingest's ContentService, so ingest gets a known port too.
    ingest_port: int = field(default_factory=free_port)

    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        settings = {
            "INGEST": self.config.ingest(),
            "IDENTITY": self.config.identity(),
            "INTELLIGENCE": self.config.intelligence(),
            "ACCESS": self.config.access(
                f"127.0.0.1:{self.intelligence_port}", f"127.0.0.1:{self.ingest_port}"
            ),
        }
        for prefix, values in settings.items():
            for name, value in values.model_dump().items():
                if isinstance(value, SecretStr):
                    value = value.get_secret_value()
                env[f"COMMSINTEL_{prefix}_{name.upper()}"] = str(value)
        env["COMMSINTEL_INTELLIGENCE_GRPC_BIND"] = f"127.0.0.1:{self.intelligence_port}"
        env["COMMSINTEL_ACCESS_GRPC_BIND"] = f"127.0.0.1:{self.access_port}"
        env["COMMSINTEL_INGEST_GRPC_BIND"] = f"127.0.0.1:{self.ingest_port}"
        return env

    def start_service(self, service: str) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = (self.log_dir / f"{service}.log").open("ab")
        process = subprocess.Popen(
            [sys.executable, "-m", "commsintel.cli", "serve", service],
            env=self.environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        self.processes[service] = process
        return process

    async def start(self, timeout: float = 60.0) -> ProcessPipeline:
        await ensure_topics(self.config.kafka_bootstrap)
        for service in SERVICES:
            self.start_service(service)
        for port in (self.intelligence_port, self.access_port):
            await wait_until_serving(f"127.0.0.1:{port}", timeout)
        return self

    def stop_service(self, service: str, timeout: float = 15.0) -> None:
        process = self.processes.pop(service, None)
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        for service in reversed(SERVICES):
            self.stop_service(service)


async def wait_until_serving(target: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    async with grpc.aio.insecure_channel(target) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                answer = await stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                if answer.status == health_pb2.HealthCheckResponse.SERVING:
                    return
            except grpc.aio.AioRpcError:
                pass
            await asyncio.sleep(0.2)
    raise TimeoutError(f"{target} did not report SERVING within {timeout}s")
