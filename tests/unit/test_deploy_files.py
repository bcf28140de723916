"""deploy/ parses, and its parts agree: the compose file, the Kubernetes manifests,
Prometheus, the OpenTelemetry Collector, Tempo and Grafana's provisioning and
dashboards. (That every metric a dashboard queries is one the services export is
checked against a running pipeline's /metrics in tests/e2e/test_telemetry.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).parents[2] / "deploy"
SERVICES = ("ingest", "identity-resolution", "intelligence", "access")
METRICS_PORT = "9464"


def _load(path: Path):
    return yaml.safe_load(path.read_text())


def test_compose_file_parses_and_runs_the_observability_stack() -> None:
    compose = _load(DEPLOY / "compose.yaml")
    services = compose["services"]
    assert {"prometheus", "otel-collector", "tempo", "grafana"} <= set(services)
    for service in SERVICES:
        environment = services[service]["environment"]
        binds = [value for key, value in environment.items() if key.endswith("_METRICS_BIND")]
        assert binds == [f"0.0.0.0:{METRICS_PORT}"], service
        assert "otel-collector:4317" in environment["OTEL_EXPORTER_OTLP_ENDPOINT"]
    # Every file the observability services mount exists.
    for name in ("prometheus", "otel-collector", "tempo", "grafana"):
        for volume in services[name].get("volumes", ()):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DEPLOY / source).exists(), (name, source)
    assert {"prometheus-data", "tempo-data", "grafana-data"} <= set(compose["volumes"])


@pytest.mark.parametrize(
    "path", sorted((DEPLOY / "kubernetes").glob("*.yaml")), ids=lambda path: path.name
)
def test_kubernetes_manifest_parses(path: Path) -> None:
    documents = [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]
    assert documents
    for document in documents:
        assert "kind" in document and "apiVersion" in document, path


@pytest.mark.parametrize("service", SERVICES)
def test_each_deployment_serves_metrics_for_prometheus(service: str) -> None:
    (deployment,) = [
        doc
        for doc in yaml.safe_load_all((DEPLOY / "kubernetes" / f"{service}.yaml").read_text())
        if doc and doc["kind"] == "Deployment"
    ]
    template = deployment["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/port"] == METRICS_PORT
    (container,) = template["spec"]["containers"]
    assert {"name": "metrics", "containerPort": int(METRICS_PORT)} in container["ports"]
    env = {item["name"]: item.get("value") for item in container["env"]}
    assert [v for k, v in env.items() if k.endswith("_METRICS_BIND")] == [f"0.0.0.0:{METRICS_PORT}"]


def test_prometheus_scrapes_every_service() -> None:
    config = _load(DEPLOY / "prometheus" / "prometheus.yml")
    targets = {
        job["job_name"]: [t for sc in job["static_configs"] for t in sc["targets"]]
        for job in config["scrape_configs"]
    }
    for service in SERVICES:
        assert targets[service] == [f"{service}:{METRICS_PORT}"]


def test_collector_exports_traces_to_tempo() -> None:
    config = _load(DEPLOY / "otel-collector" / "config.yaml")
    traces = config["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"]
    for exporter in traces["exporters"]:
        assert exporter in config["exporters"]
    assert config["exporters"]["otlp/tempo"]["endpoint"] == "tempo:4317"
    for processor in traces["processors"]:
        assert processor in config["processors"]
    tempo = _load(DEPLOY / "tempo" / "tempo.yaml")
    assert "otlp" in tempo["distributor"]["receivers"]


def _datasource_uids() -> set[str]:
    provisioned = _load(DEPLOY / "grafana" / "provisioning" / "datasources" / "datasources.yaml")
    return {source["uid"] for source in provisioned["datasources"]}


def test_grafana_provisions_data_sources_and_dashboards() -> None:
    assert {"prometheus", "tempo"} <= _datasource_uids()
    providers = _load(DEPLOY / "grafana" / "provisioning" / "dashboards" / "dashboards.yaml")
    (provider,) = providers["providers"]
    compose = _load(DEPLOY / "compose.yaml")
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./grafana/dashboards:{provider['options']['path']}:ro" in mounts


DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))


def test_the_four_dashboards_exist() -> None:
    assert {path.stem for path in DASHBOARDS} == {
        "sync-health",
        "pipeline",
        "dead-letters",
        "api-latency",
    }


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda path: path.name)
def test_dashboard_parses_and_queries_provisioned_sources(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    assert dashboard["uid"] and dashboard["title"] and dashboard["panels"]
    uids = _datasource_uids()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] in uids, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["expr"].count("(") == target["expr"].count(")"), target["expr"]
