"""Our own cost per message (issue 18), on a synthetic workspace of N distinct messages.

`python -m bench cost=N`: the workspace (bench/workspaces, seed 7) is written to disk and
imported through the real ingest path (each member's mbox, then .ics, by one ingest
process: `IngestService.import_archive` / `import_calendar_archive`, as `commsintel
import` runs them), while the four services run as `commsintel serve` processes (one
instance each), until every consumer group has committed everything. Each of these
processes is `bench.cost_probe`: its store commands and the documents they write are
counted per collection by a pymongo command listener; its CPU time comes from
/proc/<pid>/stat and its peak RSS from /proc/<pid>/status. Figures are taken from the
moment every service is ready (start-up excluded) to the moment the last group caught up.

"Per message" is per MessageSynced the import published (one per mailbox copy: a
message between two colleagues counts twice, as it flows twice through the pipeline).

The store-bound ceiling, in the same run on the same store, after the services stopped:
documents sampled from every collection the services wrote, in proportion to what each
got, bulk-upserted (ReplaceOne, unordered, 500 per call) into collections of their own
with the same indexes; that rate, divided by the documents written per message.

`backlog=1`: the import first, with no service running, then the services on its
backlog; the figures count from their start, so the CPU is that of services busy all
along (the rate is then the consuming services', not end to end).

`python -m bench instances=N counts=1,2,3 spread=K`: 1, 2 and 3 instances of each
consuming service (identity-resolution, intelligence, access; ingest once) on topics of 6
partitions, on the import's backlog (`backlog=0`: pipelined), and the rate for each.
Events are keyed by workspace, so `spread=K` splits the N messages into K workspaces
whose ids land on distinct partitions; with one workspace a single instance gets its work.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient, ReplaceOne

from bench.cost_figures import (
    ServiceCost,
    StoreCounts,
    cpu_seconds_from_stat,
    sample_sizes,
    seeds_on_distinct_partitions,
    share_of_ceiling,
    store_bound_ceiling,
)
from bench.cost_probe import OUT_VARIABLE
from bench.workspaces import generate, write
from commsintel.contracts import topics
from commsintel.embedded import free_port, kafka_bootstrap, local_kafka, local_mongo, mongo_uri
from commsintel.local_stack import ENV_PREFIXES
from commsintel.pipeline import SERVICES, PipelineConfig, consumer_lag, ensure_topics
from tests.support.process_pipeline import ProcessPipeline, wait_until_serving

ROOT = Path(__file__).resolve().parents[1]
CONSUMING = ("identity-resolution", "intelligence", "access")
PARTITIONS = 6
CEILING_SAMPLE = 20_000
CEILING_BATCH = 500
INSTANCE_IDS = "abcdefgh"
IDLE_SECONDS = 10.0


def _log(text: str) -> None:
    print(f"  [{time.strftime('%H:%M:%S')}] {text}", flush=True)


def _stat(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak RSS MB) of a running process."""
    cpu = cpu_seconds_from_stat(Path(f"/proc/{pid}/stat").read_text(), os.sysconf("SC_CLK_TCK"))
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return cpu, int(line.split()[1]) / 1024
    return cpu, 0.0


@dataclass
class _Instance:
    service: str
    instance_id: str
    port: int
    report: Path
    process: subprocess.Popen
    cpu_at_ready: float = 0.0
    counts_at_ready: StoreCounts = field(default_factory=StoreCounts)
    idle_cpu_share: float = 0.0

    def counts(self) -> StoreCounts:
        return StoreCounts.from_json(json.loads(self.report.read_text())["counts"])


@dataclass
class _Run:
    """A broker and a store of the run's own, and the services as probe processes."""

    workdir: Path
    instances: int = 1
    partitions: int = PARTITIONS
    config: PipelineConfig = field(init=False)
    pipeline: ProcessPipeline = field(init=False)
    running: list[_Instance] = field(default_factory=list)

    def start_servers(self) -> None:
        self.kafka = local_kafka(self.workdir / "kafka").start()
        # On disk: the content store keeps every attachment (GridFS).
        self.mongo = local_mongo(self.workdir / "mongo", log_dir=self.workdir).start()
        self.config = PipelineConfig(
            kafka_bootstrap(self.kafka),
            mongo_uri(self.mongo),
            secrets.token_hex(32),
            identity_bind=f"127.0.0.1:{free_port()}",
            name="cost",
        )
        logs = self.workdir / "logs"
        self.pipeline = ProcessPipeline(self.config, logs, free_port(), free_port())

    def stop(self) -> None:
        for instance in reversed(self.running):
            if instance.process.poll() is None:
                instance.process.terminate()
        for instance in self.running:
            try:
                instance.process.wait(20)
            except subprocess.TimeoutExpired:
                instance.process.kill()
                instance.process.wait()
        self.running.clear()
        for server in ("mongo", "kafka"):
            if hasattr(self, server):
                getattr(self, server).stop()

    def _port_of_a(self, service: str) -> int:
        return {
            "ingest": self.pipeline.ingest_port,
            "identity-resolution": int(self.config.identity_bind.rpartition(":")[2]),
            "intelligence": self.pipeline.intelligence_port,
            "access": self.pipeline.access_port,
        }[service]

    def _spawn(self, service: str, instance_id: str) -> _Instance:
        prefix = ENV_PREFIXES[service]
        port = self._port_of_a(service) if instance_id == "a" else free_port()
        report = self.workdir / "probes" / f"{service}-{instance_id}.json"
        report.parent.mkdir(parents=True, exist_ok=True)
        environment = self.pipeline.environment() | {
            f"{prefix}INSTANCE_ID": instance_id,
            f"{prefix}GRPC_BIND": f"127.0.0.1:{port}",
            OUT_VARIABLE: str(report),
        }
        log_dir = self.workdir / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / f"{service}-{instance_id}.log").open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "bench.cost_probe", "serve", service],
                env=environment,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        return _Instance(service, instance_id, port, report, process)

    async def start_services(self, measure_idle: bool = True) -> None:
        """Starts the services; their figures count from when they are ready. With
        `measure_idle`, after each has idled IDLE_SECONDS (and that idle share of a core
        is measured); without (a backlog waits for them), as soon as each serves gRPC,
        before its consumer has joined its group."""
        await ensure_topics(self.config.kafka_bootstrap, partitions=self.partitions)
        for service in SERVICES:
            count = self.instances if service in CONSUMING else 1
            for instance_id in INSTANCE_IDS[:count]:
                self.running.append(self._spawn(service, instance_id))
        for instance in self.running:
            await wait_until_serving(f"127.0.0.1:{instance.port}", 120)
        for instance in self.running:
            while not instance.report.exists():  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        if not measure_idle:
            self.ready_at = time.time()
            for instance in self.running:
                instance.cpu_at_ready, _ = _stat(instance.process.pid)
                instance.counts_at_ready = instance.counts()
            await self._until_assigned()
            return
        await self._until_assigned()
        await asyncio.sleep(1.0)  # the probes' reports are fresh
        # Idle for a while: what each process spends on polls and timers alone.
        idle_from = time.monotonic()
        idle_cpu = {id(i): _stat(i.process.pid)[0] for i in self.running}
        await asyncio.sleep(IDLE_SECONDS)
        idle_seconds = time.monotonic() - idle_from
        for instance in self.running:
            instance.cpu_at_ready, _ = _stat(instance.process.pid)
            instance.idle_cpu_share = (
                instance.cpu_at_ready - idle_cpu[id(instance)]
            ) / idle_seconds
            instance.counts_at_ready = instance.counts()

    async def _until_assigned(self, timeout: float = 120.0) -> None:
        """Every consumer group has as many members as instances were started."""
        from aiokafka.admin import AIOKafkaAdminClient

        admin = AIOKafkaAdminClient(bootstrap_servers=self.config.kafka_bootstrap)
        await admin.start()
        try:
            deadline = time.monotonic() + timeout
            for group in self.config.consumer_groups():
                while True:
                    described = await admin.describe_consumer_groups([group])
                    members = [m for answer in described for g in answer.groups for m in g[5]]
                    if len(members) >= self.instances and all(m[-1] for m in members):
                        break
                    if time.monotonic() > deadline:
                        raise TimeoutError(f"{group}: {len(members)} of {self.instances} joined")
                    await asyncio.sleep(0.5)
        finally:
            await admin.close()

    def _start_importer(self, workspace_dir: Path, report: Path) -> subprocess.Popen:
        environment = self.pipeline.environment() | {OUT_VARIABLE: str(report)}
        report.parent.mkdir(parents=True, exist_ok=True)
        (self.workdir / "logs").mkdir(parents=True, exist_ok=True)
        with (self.workdir / "logs" / f"{report.stem}.log").open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "bench.cost_probe", "import", str(workspace_dir)],
                env=environment,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def import_and_catch_up(
        self, workspace_dirs: list[Path], timeout: float, catch_up: bool = True
    ) -> dict:
        """Runs one import process per workspace, side by side; returns their reports
        summed and (with `catch_up`) the time every group had committed everything (the
        first of the probes finding no lag for a second)."""
        reports = [
            self.workdir / "probes" / f"ingest-import-{n}.json" for n in range(len(workspace_dirs))
        ]
        pairs = zip(workspace_dirs, reports, strict=True)
        importers = [self._start_importer(directory, report) for directory, report in pairs]
        self.importer_peak_mb = 0.0
        deadline = time.monotonic() + timeout
        groups = self.config.consumer_groups()
        quiet_since: float | None = None
        last_shown = time.monotonic()
        while True:
            for importer in importers:
                if importer.poll() is None:
                    try:
                        self.importer_peak_mb = max(self.importer_peak_mb, _stat(importer.pid)[1])
                    except OSError:
                        pass
                elif importer.returncode != 0:
                    raise RuntimeError(f"an import failed; see the logs in {self.workdir}")
            if all(importer.poll() is not None for importer in importers):
                if not catch_up:
                    break
                lag = await consumer_lag(self.config.kafka_bootstrap, groups)
                if lag == 0:
                    quiet_since = quiet_since or time.time()
                    if time.time() - quiet_since >= 1.0:
                        break
                else:
                    quiet_since = None
                if time.monotonic() - last_shown > 30:
                    _log(f"import done, lag {lag:,}")
                    last_shown = time.monotonic()
            elif time.monotonic() - last_shown > 30:
                published = sum(
                    json.loads(r.read_text()).get("published", 0) for r in reports if r.exists()
                )
                _log(f"importing: {published:,} published")
                last_shown = time.monotonic()
            if time.monotonic() > deadline:
                raise TimeoutError(f"not caught up within {timeout:.0f}s")
            await asyncio.sleep(0.5)
        return _summed([json.loads(r.read_text()) for r in reports]) | {"caught_up_at": quiet_since}

    async def catch_up(self, timeout: float) -> float:
        """When every group had committed everything (no lag for a second)."""
        deadline = time.monotonic() + timeout
        groups = self.config.consumer_groups()
        quiet_since: float | None = None
        while time.monotonic() < deadline:
            if await consumer_lag(self.config.kafka_bootstrap, groups) == 0:
                quiet_since = quiet_since or time.time()
                if time.time() - quiet_since >= 1.0:
                    return quiet_since
            else:
                quiet_since = None
            await asyncio.sleep(0.5)
        raise TimeoutError(f"not caught up within {timeout:.0f}s")

    async def costs(self, imported: dict, seconds: float) -> list[ServiceCost]:
        """Each service's cost since it was ready (instances of a service summed)."""
        await asyncio.sleep(1.0)  # the probes' reports are fresh
        found: dict[str, ServiceCost] = {}
        for instance in self.running:
            cpu, peak = _stat(instance.process.pid)
            counts = instance.counts().minus(instance.counts_at_ready)
            name = "ingest (serve)" if instance.service == "ingest" else instance.service
            earlier = found.get(name)
            found[name] = ServiceCost(
                name,
                cpu - instance.cpu_at_ready + (earlier.cpu_seconds if earlier else 0.0),
                StoreCounts.total([counts] + ([earlier.counts] if earlier else [])),
                max(peak, earlier.peak_rss_mb if earlier else 0.0),
                instance.idle_cpu_share + (earlier.idle_cpu_share if earlier else 0.0),
                seconds,
            )
        importer = ServiceCost(
            "ingest (import)",
            imported["cpu_seconds"],
            StoreCounts.from_json(imported["counts"]),
            max(imported["peak_rss_mb"], self.importer_peak_mb),
        )
        return [importer, *found.values()]

    async def topic_records(self) -> dict[str, int]:
        """Records each topic holds (the run's broker is fresh: all of them this run's)."""
        probe = AIOKafkaConsumer(bootstrap_servers=self.config.kafka_bootstrap)
        await probe.start()
        try:
            found = {}
            for topic in topics.ALL_TOPICS:
                numbers = sorted(probe.partitions_for_topic(topic) or ())
                ends = await probe.end_offsets([TopicPartition(topic, n) for n in numbers])
                found[topic] = sum(ends.values())
            return found
        finally:
            await probe.stop()

    async def indexes(self, namespaces: set[str]) -> dict[str, int]:
        client = AsyncMongoClient(self.config.mongo_uri)
        try:
            found = {}
            for namespace in namespaces:
                database, _, collection = namespace.partition(".")
                if collection:
                    found[namespace] = len(
                        await (await client[database][collection].list_indexes()).to_list()
                    )
            return found
        finally:
            await client.close()

    async def bulk_write_rate(self, documents: dict[str, int]) -> tuple[int, float]:
        """Documents/s of a bare bulk upsert of the same documents (same collections,
        same indexes, copies under a database of their own)."""
        client = AsyncMongoClient(self.config.mongo_uri)
        try:
            batches: list[tuple[object, list]] = []
            for namespace, count in sample_sizes(documents, CEILING_SAMPLE).items():
                database, _, name = namespace.partition(".")
                if not name:
                    continue
                source = client[database][name]
                taken = await source.find().limit(count).to_list()
                if not taken:  # deleted since (e.g. a queue emptied): nothing to copy
                    continue
                target = client["cost_ceiling"][f"{database}.{name}"]
                async for index in await source.list_indexes():
                    if index["name"] != "_id_":
                        options = {k: v for k, v in index.items() if k not in ("key", "v", "ns")}
                        await target.create_index(list(index["key"].items()), **options)
                copies = [taken[n % len(taken)] for n in range(count)]
                operations = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in copies]
                for first in range(0, len(operations), CEILING_BATCH):
                    batches.append((target, operations[first : first + CEILING_BATCH]))
            written = sum(len(batch) for _, batch in batches)
            started = time.perf_counter()
            for target, batch in batches:
                await target.bulk_write(batch, ordered=False)  # type: ignore[attr-defined]
            return written, written / (time.perf_counter() - started)
        finally:
            await client.close()


def _summed(reports: list[dict]) -> dict:
    """The import processes' reports as one: their work since their import started."""
    counts = [
        StoreCounts.from_json(r["counts_after"]).minus(StoreCounts.from_json(r["counts_before"]))
        for r in reports
    ]
    return {
        "import_started_at": min(r["import_started_at"] for r in reports),
        "import_ended_at": max(r["import_ended_at"] for r in reports),
        "cpu_seconds": sum(r["cpu_after"] - r["cpu_before"] for r in reports),
        "counts": StoreCounts.total(counts).as_json(),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in reports),
        **{
            key: sum(r[key] for r in reports)
            for key in ("read", "published", "quarantined", "calendar_events_published")
        },
    }


def _workspace(messages: int, directory: Path, seed: int = 7) -> dict:
    _log(f"writing the {messages:,}-message workspace (seed {seed}) to {directory} ...")
    written = write(generate(messages, seed=seed), directory)
    return json.loads(written.manifest.read_text())


async def _one_run(
    workdir: Path, workspace_dirs: list[Path], instances: int, timeout: float, backlog: bool
) -> tuple[_Run, dict]:
    """Pipelined (the services ready, then the import) or, with `backlog`, the import
    first and then the services on its backlog: the figures from the services' start
    are then those of services busy all along."""
    run = _Run(workdir, instances=instances)
    run.start_servers()
    try:
        if backlog:
            await ensure_topics(run.config.kafka_bootstrap, partitions=run.partitions)
            _log("importing (the services are not started yet)")
            imported = await run.import_and_catch_up(workspace_dirs, timeout, catch_up=False)
            await run.start_services(measure_idle=False)
            _log(f"{instances} instance(s) of each consuming service on the backlog")
            imported |= {
                "work_started_at": run.ready_at,
                "caught_up_at": await run.catch_up(timeout),
            }
        else:
            await run.start_services()
            _log(f"services ready ({instances} instance(s) of each consuming service); importing")
            imported = await run.import_and_catch_up(workspace_dirs, timeout)
            imported["work_started_at"] = imported["import_started_at"]
    except BaseException:
        run.stop()
        raise
    return run, imported


def _rates(imported: dict) -> dict[str, float]:
    seconds = imported["caught_up_at"] - imported["work_started_at"]
    published = imported["published"]
    return {
        "end_to_end_seconds": seconds,
        "end_to_end_msgs_per_s": published / seconds,
        "import_msgs_per_s": published
        / (imported["import_ended_at"] - imported["import_started_at"]),
    }


async def _cost(messages: int, workdir: Path, timeout: float, backlog: bool) -> dict:
    manifest = _workspace(messages, workdir / "workspace")
    run, imported = await _one_run(workdir / "run", [workdir / "workspace"], 1, timeout, backlog)
    try:
        rates = _rates(imported)
        _log(f"caught up: {rates['end_to_end_msgs_per_s']:.1f} msg/s end to end")
        costs = await run.costs(imported, rates["end_to_end_seconds"])
        records = await run.topic_records()
        for instance in run.running:  # stop the services, keep the store
            instance.process.terminate()
        for instance in run.running:
            instance.process.wait(30)
        run.running.clear()
        everything = StoreCounts.total(cost.counts for cost in costs)
        indexes = await run.indexes(set(everything.documents))
        _log("bare bulk upsert of the same documents ...")
        sampled, bulk_rate = await run.bulk_write_rate(everything.documents)
    finally:
        run.stop()
    published = imported["published"]
    figures: dict[str, float | int | str] = {
        "mode": "backlog" if backlog else "pipelined",
        "distinct_messages": messages,
        "members": len(manifest["members"]),
        "messages_published": published,
        "quarantined": imported["quarantined"],
        "calendar_events_published": imported["calendar_events_published"],
        **rates,
    }
    for cost in costs:
        for key, value in cost.per_message(published, indexes).items():
            figures[f"{cost.service}: {key}"] = value
    documents = sum(everything.documents.values()) / published
    ceiling = store_bound_ceiling(bulk_rate, documents)
    figures |= {
        "all services: documents_per_msg": documents,
        "all services: commands_per_msg": sum(everything.commands.values()) / published,
        "bare_bulk_upsert_docs_per_s": bulk_rate,
        "bare_bulk_upsert_documents": sampled,
        "store_bound_ceiling_msgs_per_s": ceiling,
        "end_to_end_share_of_ceiling": share_of_ceiling(rates["end_to_end_msgs_per_s"], ceiling),
    }
    figures |= {f"{topic}: records_per_msg": n / published for topic, n in records.items() if n}
    details = workdir.parent / f"cost-{messages}-details.json"
    details.write_text(
        json.dumps(
            {
                "figures": figures,
                "indexes": indexes,
                "services": {c.service: c.counts.as_json() for c in costs},
            },
            indent=1,
        )
    )
    _log(f"per collection: {details}")
    return figures


async def _instances(
    messages: int, counts: list[int], spread: int, workdir: Path, timeout: float, backlog: bool
) -> dict:
    """`spread` 1: the workspace of `messages`; more: that many workspaces of
    messages/spread each, on distinct partitions (events are keyed by workspace)."""
    if spread == 1:
        seeds = [7]
    else:
        seeds = seeds_on_distinct_partitions(spread, messages // spread, PARTITIONS)
    directories = [workdir / f"workspace-{seed}" for seed in seeds]
    for seed, directory in zip(seeds, directories, strict=True):
        _workspace(messages // spread, directory, seed)
    figures: dict[str, float | int | str] = {
        "distinct_messages": messages,
        "workspaces": spread,
        "mode": "backlog" if backlog else "pipelined",
    }
    for count in counts:
        run, imported = await _one_run(
            workdir / f"run-{count}", directories, count, timeout, backlog
        )
        try:
            rates = _rates(imported)
            costs = await run.costs(imported, rates["end_to_end_seconds"])
            records = await run.topic_records()
        finally:
            run.stop()
        shutil.rmtree(workdir / f"run-{count}", ignore_errors=True)
        published = imported["published"]
        _log(f"{count} instance(s): {rates['end_to_end_msgs_per_s']:.1f} msg/s")
        figures["messages_published"] = published
        figures[f"{count} instance(s): end_to_end_msgs_per_s"] = rates["end_to_end_msgs_per_s"]
        figures[f"{count} instance(s): end_to_end_seconds"] = rates["end_to_end_seconds"]
        figures[f"{count} instance(s): records_on_all_topics_per_msg"] = (
            sum(records.values()) / published
        )
        for cost in costs:
            if cost.service in CONSUMING:
                per_message = cost.per_message(published, {})
                for key in ("cpu_ms_per_msg", "cpu_ms_per_msg_net_of_idle"):
                    figures[f"{count} instance(s): {cost.service} {key}"] = per_message[key]
    return figures


def _scratch(messages: int) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"commsintel-bench-cost-{messages}-"))


def run(messages: int = 10_000, backlog: bool = False) -> dict:
    workdir = _scratch(messages)
    try:
        timeout = max(1800, messages / 10)
        return asyncio.run(_cost(messages, workdir / "work", timeout, backlog))
    finally:
        shutil.rmtree(workdir / "work", ignore_errors=True)


def run_instances(
    messages: int = 10_000,
    counts: tuple[int, ...] = (1, 2, 3),
    spread: int = 1,
    backlog: bool = True,
) -> dict:
    workdir = _scratch(messages)
    try:
        timeout = max(1800, messages / 10)
        return asyncio.run(_instances(messages, list(counts), spread, workdir, timeout, backlog))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
