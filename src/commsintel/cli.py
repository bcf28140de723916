"""`commsintel`: the command line.

commsintel run                      the embedded default (what `make run` does)
commsintel import --workspace W --member M --owner-address a@ours.com PATH
commsintel serve ingest|identity-resolution|intelligence|access
commsintel replay identity-resolution|intelligence|access
commsintel token --workspace W --member M   a dev bearer token for grpcurl and friends
commsintel token --workspace W --operator   an operator token (sets admins only)
commsintel workspace create --workspace W --admin M --address m@ours.com
                                    the operator makes M the workspace's (first) admin
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from commsintel.contracts.auth import (
    Caller,
    dev_signing_key,
    issue_operator_token,
    issue_token,
)
from commsintel.contracts.collector import pace_collector_for_large_heaps

DATA_DIR = Path(".commsintel")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="commsintel", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start everything locally and import the sample")
    run.add_argument("--data-dir", type=Path, default=DATA_DIR)
    run.add_argument(
        "--exit-after-summary",
        action="store_true",
        help="stop after printing the summary instead of serving until Ctrl-C",
    )

    imports = commands.add_parser("import", help="import an mbox file or a directory of .eml")
    imports.add_argument("--workspace", required=True)
    imports.add_argument("--member", required=True)
    imports.add_argument(
        "--owner-address",
        required=True,
        help="the mailbox owner's address: mail from it counts as sent",
    )
    imports.add_argument("path", type=Path)

    serve = commands.add_parser("serve", help="run one service until SIGTERM")
    serve.add_argument(
        "service", choices=["ingest", "identity-resolution", "intelligence", "access"]
    )

    replay = commands.add_parser(
        "replay",
        help="drop a service's projections and rebuild them from the topics "
        "(stop the service first)",
    )
    replay.add_argument("service", choices=["identity-resolution", "intelligence", "access"])

    token = commands.add_parser("token", help="print a dev bearer token")
    token.add_argument("--workspace", required=True)
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--member")
    who.add_argument(
        "--operator",
        action="store_true",
        help="the deployment's operator: may set the workspace's admins, nothing else",
    )
    token.add_argument("--signing-key-file", type=Path, default=DATA_DIR / "dev-signing-key")

    workspace = commands.add_parser("workspace", help="operator commands for a workspace")
    workspace_commands = workspace.add_subparsers(dest="workspace_command", required=True)
    create = workspace_commands.add_parser(
        "create",
        help="make a member the workspace's admin (its first one, or another one), as the "
        "deployment's operator (needs the signing key)",
    )
    create.add_argument("--workspace", required=True)
    create.add_argument("--admin", required=True, help="the member id of the admin")
    create.add_argument(
        "--address", action="append", required=True, help="the admin's address (repeatable)"
    )
    create.add_argument(
        "--identity-target",
        default="127.0.0.1:50053",
        help="identity-resolution's gRPC address (WorkspaceService)",
    )
    create.add_argument(
        "--signing-key-file",
        type=Path,
        default=DATA_DIR / "dev-signing-key",
        help="used when COMMSINTEL_IDENTITY_SIGNING_KEY is not set",
    )

    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command in ("run", "import", "serve", "replay"):
        pace_collector_for_large_heaps()
    if args.command == "run":
        from commsintel.run_embedded import run_embedded

        return asyncio.run(run_embedded(args.data_dir, serve=not args.exit_after_summary))
    if args.command == "import":
        return asyncio.run(_import(args))
    if args.command == "serve":
        return asyncio.run(_serve(args.service))
    if args.command == "replay":
        return asyncio.run(_replay(args.service))
    if args.command == "workspace":
        return asyncio.run(_create_workspace(args))
    key = dev_signing_key(args.signing_key_file)
    now = datetime.now(UTC)
    if args.operator:
        print(issue_operator_token(key, args.workspace, issued_at=now))
    else:
        print(issue_token(key, Caller(args.workspace, args.member), issued_at=now))
    return 0


async def _create_workspace(args: argparse.Namespace) -> int:
    import grpc

    from commsintel.workspace_admin import create_workspace, operator_signing_key

    try:
        settings = await create_workspace(
            args.identity_target,
            operator_signing_key(args.signing_key_file),
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


async def _import(args: argparse.Namespace) -> int:
    from commsintel.ingest import app as ingest_app
    from commsintel.ingest.adapters.archives import ArchiveNotFound
    from commsintel.ingest.config import IngestSettings

    # The same settings as the running service (its keys above all), but this process
    # only imports: no mailbox sync, no fixed gRPC port.
    service = ingest_app.build(IngestSettings(sync_mailboxes=False, grpc_bind="127.0.0.1:0"))
    await service.start()
    try:
        progress = await service.import_archive(
            args.path,
            workspace_id=args.workspace,
            member_id=args.member,
            owner_address=args.owner_address,
            on_progress=lambda p: print(
                f"\rread {p.read}  published {p.published}  already synced "
                f"{p.already_synced}  hidden {p.hidden}  quarantined {p.quarantined}",
                end="",
                flush=True,
            ),
        )
    except ArchiveNotFound as missing:
        print(f"commsintel import: {missing}", file=sys.stderr)
        return 2
    finally:
        await service.stop()
    print()
    return 1 if progress.read == 0 else 0


async def _replay(service_name: str) -> int:
    from commsintel.replay import replay_service

    def show(progress) -> None:
        rate = progress.records / progress.seconds if progress.seconds else 0.0
        print(
            f"\rreplayed {progress.records}/{progress.total} records ({rate:.0f}/s), "
            f"{progress.poison_skipped} poison skipped"
            + (", writing the projections" if progress.writing else ""),
            end="",
            flush=True,
        )

    result = await replay_service(service_name, on_progress=show)
    show(result)
    print()
    return 0


async def _serve(service_name: str) -> int:
    from commsintel import pipeline

    config_for = {
        "ingest": lambda: (pipeline.ingest_app, pipeline.IngestSettings()),
        "identity-resolution": lambda: (pipeline.identity_app, pipeline.IdentitySettings()),
        "intelligence": lambda: (pipeline.intelligence_app, pipeline.IntelligenceSettings()),
        "access": lambda: (pipeline.access_app, pipeline.AccessSettings()),
    }
    module, settings = config_for[service_name]()
    service = module.build(settings)
    await service.start()
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    print(f"{service_name} running", flush=True)
    await stopped.wait()
    with contextlib.suppress(Exception):
        await service.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
