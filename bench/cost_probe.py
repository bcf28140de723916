"""A service process as `commsintel` runs it, with its store commands counted, for
`python -m bench cost=N` (bench/cost.py):

- `python -m bench.cost_probe serve SERVICE`: `commsintel serve SERVICE`;
- `python -m bench.cost_probe import DIR`: every member's mbox, then .ics, of the
  synthetic workspace in DIR (workspace.json) imported by one ingest, through
  `IngestService.import_archive` / `import_calendar_archive` as `commsintel import` does.

A pymongo command listener registered for the whole process (so the service's own
client gets it without a change to the service) counts commands and the documents they
write per collection (bench/cost_figures.py). The counts, this process's CPU time and
peak RSS go to the JSON file named by COMMSINTEL_BENCH_PROBE_OUT, every 0.5 s and at
exit. The import also writes its result and its own start and end times there.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

from pymongo import monitoring

from bench.cost_figures import StoreCounts

OUT_VARIABLE = "COMMSINTEL_BENCH_PROBE_OUT"


class _Counting(monitoring.CommandListener):
    def __init__(self) -> None:
        self.counts = StoreCounts()
        self.lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        with self.lock:
            self.counts.add(event.database_name, event.command_name, event.command)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class _Report:
    def __init__(self, path: Path, listener: _Counting) -> None:
        self.path, self.listener = path, listener
        self.extra: dict = {}
        self._stop = threading.Event()

    def write(self) -> None:
        with self.listener.lock:
            counts = self.listener.counts.as_json()
        report = {
            "pid": os.getpid(),
            "at": time.time(),
            "cpu_seconds": _cpu_seconds(),
            "peak_rss_mb": _peak_rss_mb(),
            "counts": counts,
            **self.extra,
        }
        partial = self.path.with_suffix(".partial")
        partial.write_text(json.dumps(report))
        partial.replace(self.path)

    def every(self, seconds: float) -> None:
        def loop() -> None:
            while not self._stop.wait(seconds):
                self.write()

        threading.Thread(target=loop, daemon=True, name="cost-probe").start()

    def close(self) -> None:
        self._stop.set()
        self.write()


async def _import_workspace(directory: Path, report: _Report) -> None:
    from commsintel import local_stack
    from commsintel.ingest import bootstrap as ingest_bootstrap

    manifest = json.loads((directory / "workspace.json").read_text())
    settings = local_stack.service_settings(
        "ingest", local_stack.DATA_DIR, sync_mailboxes=False, grpc_bind="127.0.0.1:0"
    )
    service = ingest_bootstrap.build(settings)
    await service.start()
    try:
        with report.listener.lock:
            before = StoreCounts.from_json(report.listener.counts.as_json())
        report.extra |= {"import_started_at": time.time(), "cpu_before": _cpu_seconds()}
        report.extra["counts_before"] = before.as_json()
        published = read = quarantined = events = 0
        for done, member in enumerate(manifest["members"], 1):
            who = {
                "workspace_id": manifest["workspace_id"],
                "member_id": member["member_id"],
                "owner_address": member["address"],
            }
            mail = await service.import_archive(directory / member["mbox"], **who)
            read += mail.read
            published += mail.published
            quarantined += mail.quarantined
            calendar = await service.import_calendar_archive(directory / member["ics"], **who)
            events += calendar.published
            report.extra |= {"published": published, "members_done": done}
        report.extra |= {
            "import_ended_at": time.time(),
            "cpu_after": _cpu_seconds(),
            "read": read,
            "published": published,
            "quarantined": quarantined,
            "calendar_events_published": events,
        }
        with report.listener.lock:
            report.extra["counts_after"] = report.listener.counts.as_json()
    finally:
        await service.stop()


def main(argv: list[str]) -> int:
    listener = _Counting()
    monitoring.register(listener)
    report = _Report(Path(os.environ[OUT_VARIABLE]), listener)
    report.every(0.5)
    try:
        if argv[:1] == ["import"]:
            from commsintel.platform.collector import pace_collector_for_large_heaps

            pace_collector_for_large_heaps()
            asyncio.run(_import_workspace(Path(argv[1]), report))
            return 0
        from commsintel.cli import main as commsintel

        return commsintel(argv)
    finally:
        report.close()


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
