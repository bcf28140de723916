"""Session fixtures for real infrastructure, shared by every test in the repository.

Kafka and MongoDB come from, in order: COMMSINTEL_TEST_KAFKA_BOOTSTRAP /
COMMSINTEL_TEST_MONGO_URI (an existing cluster); Testcontainers when a Docker engine
answers a ping; otherwise the local stand-ins (noida-db, SecantusDB) on free loopback
ports in temporary directories, stopped when the session ends.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest

from commsintel.embedded import kafka_bootstrap as bootstrap_of
from commsintel.embedded import local_kafka, local_mongo
from commsintel.embedded import mongo_uri as uri_of


def _docker_answers() -> bool:
    try:
        import docker

        docker.from_env(timeout=3).ping()
        return True
    except Exception:
        return False


def _kafka(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if existing := os.environ.get("COMMSINTEL_TEST_KAFKA_BOOTSTRAP"):
        yield existing
    elif _docker_answers():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as kafka:
            yield kafka.get_bootstrap_server()
    else:
        server = local_kafka(tmp_path_factory.mktemp("kafka")).start()
        try:
            yield bootstrap_of(server)
        finally:
            server.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from _kafka(tmp_path_factory)


@pytest.fixture(scope="module")
def own_kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A broker of the module's own, for tests that put thousands of records on the
    topics: every later test's new consumer groups read the shared topics from the
    start, and would wait through them."""
    yield from _kafka(tmp_path_factory)


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if existing := os.environ.get("COMMSINTEL_TEST_MONGO_URI"):
        yield existing
    elif _docker_answers():
        from testcontainers.mongodb import MongoDbContainer

        with MongoDbContainer("mongo:7") as mongo:
            yield mongo.get_connection_url()
    else:
        server = local_mongo(None, log_dir=tmp_path_factory.mktemp("mongo")).start()
        try:
            yield uri_of(server)
        finally:
            server.stop()


@pytest.fixture(scope="session")
def signing_key() -> str:
    return secrets.token_urlsafe(32)


@pytest.fixture
def pipeline_config(kafka_bootstrap: str, mongo_uri: str, signing_key: str):
    """A pipeline of its own (databases and consumer groups) on the shared servers."""
    from commsintel.pipeline import PipelineConfig

    return PipelineConfig(
        kafka_bootstrap=kafka_bootstrap,
        mongo_uri=mongo_uri,
        signing_key=signing_key,
        name=f"t{uuid.uuid4().hex[:10]}",
        outbound_allowed_networks="127.0.0.0/8,::1/128",  # the test servers' loopback
    )


@pytest.fixture
async def pipeline(pipeline_config) -> AsyncIterator:
    """The four services in this process, against the real broker and store."""
    from commsintel.pipeline import InProcessPipeline

    running = await InProcessPipeline(pipeline_config).start()
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
def publish_inputs(pipeline):
    """Publishes events to the pipeline's topics, as ingest or an API would, and waits
    until every service has handled them."""
    from commsintel.platform.streaming import EventPublisher, build_broker
    from commsintel.platform.telemetry import configure_tracing

    async def publish(events) -> None:
        broker = build_broker(pipeline.config.kafka_bootstrap, configure_tracing("e2e"), "e2e")
        await broker.start()
        try:
            await EventPublisher(broker).publish(events)
        finally:
            await broker.stop()
        await pipeline.wait_until_caught_up()

    return publish
