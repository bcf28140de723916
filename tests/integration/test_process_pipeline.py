"""The four services as separate `commsintel serve` processes, as deployed."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from commsintel.embedded import free_port
from tests.support.process_pipeline import ProcessPipeline

pytestmark = [pytest.mark.kafka, pytest.mark.mongo]


async def test_services_run_as_separate_processes_and_report_serving(
    pipeline_config, tmp_path
) -> None:
    pipeline = ProcessPipeline(pipeline_config, tmp_path / "logs", free_port(), free_port())
    try:
        await pipeline.start()
        for port, name in (
            (pipeline.access_port, "commsintel.access.v1.AccessService"),
            (pipeline.intelligence_port, "commsintel.intelligence.v1.IntelligenceService"),
        ):
            async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
                answer = await health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(service=name), timeout=5
                )
                assert answer.status == health_pb2.HealthCheckResponse.SERVING
        assert all(p.poll() is None for p in pipeline.processes.values())

        # A stopped service stops alone; the others keep running.
        pipeline.stop_service("identity-resolution")
        assert "identity-resolution" not in pipeline.processes
        assert all(p.poll() is None for p in pipeline.processes.values())
    finally:
        pipeline.stop()
    assert not pipeline.processes
