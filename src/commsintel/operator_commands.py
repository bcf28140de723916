"""The commands behind `commsintel import|serve|replay|token|workspace|status|doctor|dlq`.

Each takes the parsed arguments and returns the exit status. Settings come from
`local_stack` (the environment, else the running stack in --data-dir); a missing one
raises StackNotConfigured, which the CLI prints as one line.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from commsintel import local_stack
from commsintel.local_stack import StackNotConfigured

# A service that does not stop within this is left to the process exit (its consumer's
# offsets are committed per batch, so nothing is lost).
STOP_SECONDS = 8.0


class RateColumn(ProgressColumn):
    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f}/s" if speed else "", style="progress.data.speed")


def progress_bar() -> Progress:
    console = Console(stderr=True)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}"),
        console=console,
        # In a log or a pipe the closing summary line says it all.
        disable=not console.is_terminal,
    )


# --- import ---------------------------------------------------------------------------


def count_messages(path: Path) -> int | None:
    """A cheap count for the progress bar's ETA; None when it would cost a parse."""
    if path.is_file() and path.suffix.lower() == ".eml":
        return 1
    if path.is_file():
        with path.open("rb") as mbox:
            return sum(1 for line in mbox if line.startswith(b"From "))
    if path.is_dir():
        return sum(1 for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    return None


async def import_path(args: argparse.Namespace) -> int:
    from commsintel.ingest import bootstrap as ingest_bootstrap
    from commsintel.ingest.adapters.archives import ArchiveNotFound
    from commsintel.ingest.service_layer.calendar_import import is_calendar_archive

    if not args.path.exists():
        print(f"commsintel import: nothing at {args.path}", file=sys.stderr)
        return 2
    # The running service's settings (its keys above all), but this process only
    # imports: no mailbox sync, no fixed gRPC port.
    settings = local_stack.service_settings(
        "ingest", args.data_dir, sync_mailboxes=False, grpc_bind="127.0.0.1:0"
    )
    service = ingest_bootstrap.build(settings)
    await service.start()
    who = dict(workspace_id=args.workspace, member_id=args.member, owner_address=args.owner_address)
    try:
        with progress_bar() as bar:
            if is_calendar_archive(args.path):
                files = sum(1 for _ in _ics_files(args.path))
                task = bar.add_task("calendar files", total=files, detail="")

                def show_calendar(p) -> None:
                    bar.update(
                        task,
                        completed=p.files,
                        detail=f"events {p.events_read}  published {p.published}  "
                        f"cancelled {p.cancelled}  quarantined {p.quarantined}",
                    )

                result = await service.import_calendar_archive(
                    args.path, on_progress=show_calendar, **who
                )
                summary = (
                    f"calendar files {result.files}  events read {result.events_read}  "
                    f"published {result.published}  cancelled {result.cancelled}  "
                    f"quarantined {result.quarantined}"
                )
                read = result.events_read + result.quarantined
            else:
                total = await asyncio.to_thread(count_messages, args.path)
                task = bar.add_task("messages", total=total, detail="")

                def show_mail(p) -> None:
                    bar.update(
                        task,
                        completed=p.read,
                        detail=f"published {p.published}  already synced {p.already_synced}"
                        f"  hidden {p.hidden}  quarantined {p.quarantined}",
                    )

                result = await service.import_archive(args.path, on_progress=show_mail, **who)
                show_mail(result)
                summary = (
                    f"read {result.read}  published {result.published}  already synced "
                    f"{result.already_synced}  hidden {result.hidden}  quarantined "
                    f"{result.quarantined}"
                )
                read = result.read
    except ArchiveNotFound as missing:
        print(f"commsintel import: {missing}", file=sys.stderr)
        return 2
    finally:
        await service.stop()
    print(summary)
    return 1 if read == 0 else 0


def _ics_files(path: Path):
    from commsintel.ingest.service_layer.calendar_import import calendar_files

    return calendar_files(path)


# --- replay and serve -----------------------------------------------------------------


async def replay(args: argparse.Namespace) -> int:
    from commsintel.replay import replay_service

    settings = local_stack.service_settings(args.service, args.data_dir)
    with progress_bar() as bar:
        task = bar.add_task(f"replaying {args.service}", total=None, detail="")

        def show(progress) -> None:
            bar.update(
                task,
                total=progress.total or None,
                completed=progress.records,
                detail=f"{progress.poison_skipped} poison skipped"
                + (", writing the projections" if progress.writing else ""),
            )

        result = await replay_service(args.service, on_progress=show, settings=settings)
        show(result)
    print(
        f"replayed {result.records} records in {result.seconds:.1f}s, "
        f"{result.poison_skipped} poison skipped"
    )
    return 0


async def serve(args: argparse.Namespace) -> int:
    # A service waits for nothing here: its start fails, and its supervisor restarts it.
    settings = local_stack.service_settings(args.service, args.data_dir, check=False)
    service = local_stack.bootstrap_of(args.service).build(settings)
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    await service.start()
    print(f"{args.service} running", flush=True)
    await stopped.wait()
    try:
        await asyncio.wait_for(service.stop(), STOP_SECONDS)
    except TimeoutError:
        print(f"{args.service} did not stop within {STOP_SECONDS:.0f}s; exiting", flush=True)
    except Exception as failed:
        print(f"{args.service} stopped with an error: {failed}", flush=True)
    return 0


async def remove_instance(args: argparse.Namespace) -> int:
    from commsintel.platform.streaming import remove_static_member

    settings = local_stack.service_settings(args.service, args.data_dir)
    group = settings.consumer_group
    removed = await remove_static_member(settings.kafka_bootstrap, group, args.instance_id)
    if not removed:
        print(f"no member {args.instance_id!r} in consumer group {group}")
        return 1
    print(f"removed {args.instance_id!r} from consumer group {group}: the others rebalance now")
    return 0


# --- keys and workspaces --------------------------------------------------------------


async def token(args: argparse.Namespace) -> int:
    from commsintel.contracts.auth import Caller, issue_operator_token, issue_token

    key = local_stack.signing_key(args.data_dir, args.signing_key_file)
    now = datetime.now(UTC)
    if args.operator:
        print(issue_operator_token(key, args.workspace, issued_at=now))
    else:
        print(issue_token(key, Caller(args.workspace, args.member), issued_at=now))
    return 0


async def create_workspace(args: argparse.Namespace) -> int:
    import grpc

    from commsintel.workspace_admin import create_workspace

    key = local_stack.signing_key(args.data_dir, args.signing_key_file)
    target = args.identity_target
    if target is None:
        target = local_stack.require_stack(args.data_dir, "COMMSINTEL_IDENTITY_").grpc[
            "identity-resolution"
        ]
    try:
        settings = await create_workspace(
            target,
            key,
            workspace_id=args.workspace,
            admin_member_id=args.admin,
            addresses=args.address,
        )
    except grpc.aio.AioRpcError as refused:
        print(f"commsintel workspace create: {refused.details()}", file=sys.stderr)
        return 1
    admins = ", ".join(m.member_id for m in settings.members if m.is_admin)
    print(f"workspace {args.workspace}: admins {admins}")
    return 0


# --- status, doctor, dead letters -----------------------------------------------------


def _groups(name: str) -> dict[str, tuple[str, ...]]:
    from commsintel.pipeline import PipelineConfig

    return PipelineConfig("", "", "", encryption_key="", name=name).consumer_groups()


async def status(args: argparse.Namespace) -> int:
    from commsintel.stack_status import kafka_status, mailbox_states, print_status

    bootstrap, mongo_uri, name = local_stack.kafka_and_mongo(args.data_dir)
    try:
        found = await kafka_status(bootstrap, _groups(name))
    except Exception as failed:
        raise StackNotConfigured(
            f"Kafka at {bootstrap} does not answer ({type(failed).__name__}); "
            "`commsintel doctor` checks every part"
        ) from None
    try:
        found.mailboxes = await mailbox_states(mongo_uri, f"{name}_ingest")
    except Exception as failed:
        raise StackNotConfigured(
            f"MongoDB at {mongo_uri} does not answer ({type(failed).__name__})"
        ) from None
    print_status(found)
    return 0


async def doctor(args: argparse.Namespace) -> int:
    from commsintel.stack_status import Check, check_grpc, check_kafka, check_key, check_mongo

    # The checks say what failed; the client libraries' own error logs would repeat it.
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)
    checks: list[Check] = []
    stack = None
    try:
        bootstrap, mongo_uri, _ = local_stack.kafka_and_mongo(args.data_dir, check=False)
        stack = local_stack.read_stack(args.data_dir)
    except StackNotConfigured as missing:
        checks.append(Check("stack", False, str(missing)))
    else:
        checks += await asyncio.gather(check_kafka(bootstrap), check_mongo(mongo_uri))
    if stack is not None:
        checks += await asyncio.gather(
            *(check_grpc(service, target) for service, target in stack.grpc.items())
        )
        checks.append(check_key("signing key", Path(stack.signing_key_file)))
        checks.append(check_key("encryption key", Path(stack.encryption_key_file)))
    else:
        for service, prefix in local_stack.ENV_PREFIXES.items():
            if target := os.environ.get(prefix + "GRPC_BIND"):
                checks.append(await check_grpc(service, target))
        for variable in ("COMMSINTEL_ACCESS_SIGNING_KEY", "COMMSINTEL_INGEST_ENCRYPTION_KEY"):
            set_ = bool(os.environ.get(variable))
            checks.append(Check(variable, set_, "set" if set_ else "not set"))
    for check in checks:
        print(f"{'ok ' if check.ok else 'FIX'}  {check.what}: {check.detail}")
    failed = sum(not check.ok for check in checks)
    print("everything answers" if not failed else f"{failed} to fix")
    return 0 if not failed else 1


async def dead_letters(args: argparse.Namespace) -> int:
    from commsintel.dead_letter_admin import (
        UnknownTopic,
        choose,
        read_dead_letters,
        redrive,
    )

    bootstrap, _, _ = local_stack.kafka_and_mongo(args.data_dir)
    try:
        letters = await read_dead_letters(bootstrap, args.topic)
        chosen = choose(letters, args.offset) if args.offset else letters
    except UnknownTopic as unknown:
        raise StackNotConfigured(str(unknown)) from None
    if args.action == "list":
        print(f"{len(letters)} dead letters ({sum(d.redriven for d in letters)} redriven)")
        for letter in chosen:
            mark = "  redriven" if letter.redriven else ""
            print(
                f"{letter.ref:<8} from {letter.source_topic}[{letter.source_partition}]"
                f"@{letter.source_offset}  {_type_of(letter)}{mark}\n"
                f"         {letter.reason[:200]}"
            )
        return 0
    if args.action == "show":
        for letter in chosen:
            mark = "  (redriven)" if letter.redriven else ""
            print(f"dead letter {letter.ref} of {args.topic}{mark}")
            source = f"{letter.source_topic}[{letter.source_partition}]@{letter.source_offset}"
            print(f"  source   {source}")
            print(f"  reason   {letter.reason}")
            print(f"  key      {(letter.key or b'').decode('utf-8', 'replace')}")
            for header, value in letter.headers:
                print(f"  header   {header}: {value.decode('utf-8', 'replace')}")
            print(f"  value    {letter.value[:2000].decode('utf-8', 'replace')}")
        return 0
    if not args.offset and not args.all:
        raise StackNotConfigured("redrive needs --offset PARTITION:OFFSET (repeatable) or --all")
    with progress_bar() as bar:
        task = bar.add_task("redriving", total=len(chosen), detail="")
        result = await redrive(
            bootstrap, chosen, again=args.again, on_sent=lambda _: bar.advance(task)
        )
        bar.update(task, completed=len(chosen))
    for letter in result.sent:
        print(
            f"redriven {letter.ref} -> {letter.source_topic} "
            f"(was [{letter.source_partition}]@{letter.source_offset})"
        )
    for letter in result.skipped:
        print(f"skipped  {letter.ref}: redriven before (--again sends it once more)")
    return 0


def _type_of(letter) -> str:
    for header, value in letter.headers:
        if header == "ce_type":
            return value.decode("utf-8", "replace")
    return "(no ce_type)"
