"""`commsintel`: the command line.

commsintel run                      the embedded default (what `make run` does)
commsintel import --workspace W --member M --owner-address a@ours.com PATH
commsintel serve ingest|identity-resolution|intelligence|access
commsintel replay identity-resolution|intelligence|access
commsintel token --workspace W --member M   a dev bearer token for grpcurl and friends
commsintel token --workspace W --operator   an operator token (sets admins only)
commsintel workspace create --workspace W --admin M --address m@ours.com
                                    the operator makes M the workspace's (first) admin
commsintel status                   topics, consumer groups and their lag, mailboxes, dead letters
commsintel doctor                   checks Kafka, MongoDB, every gRPC service and the keys
commsintel dlq list|show|redrive TOPIC
                                    dead letters: their reasons, and sending them back

Every command takes --data-dir (default .commsintel): the directory `commsintel run` keeps
its data in and writes stack.json to (the servers' addresses and its key files). A command
uses it when the environment does not name the servers (COMMSINTEL_<SERVICE>_*).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from commsintel.local_stack import DATA_DIR, StackNotConfigured

SERVICES = ["ingest", "identity-resolution", "intelligence", "access"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="commsintel", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, **kwargs) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, **kwargs)
        sub.add_argument(
            "--data-dir",
            type=Path,
            default=DATA_DIR,
            help="where `commsintel run` keeps its data and stack.json (default .commsintel)",
        )
        return sub

    run = command("run", help="start everything locally and import the sample")
    run.add_argument(
        "--exit-after-summary",
        action="store_true",
        help="stop after printing the summary instead of serving until Ctrl-C",
    )

    imports = command(
        "import",
        help="import an mbox, a Maildir, .eml files, or .ics calendar files (or a directory)",
    )
    imports.add_argument("--workspace", required=True)
    imports.add_argument("--member", required=True)
    imports.add_argument(
        "--owner-address",
        required=True,
        help="the mailbox owner's address: mail from it counts as sent",
    )
    imports.add_argument("path", type=Path)

    serve = command("serve", help="run one service until SIGTERM")
    serve.add_argument("service", choices=SERVICES)

    replay = command(
        "replay",
        help="drop a service's projections and rebuild them from the topics "
        "(stop the service first)",
    )
    replay.add_argument("service", choices=SERVICES[1:])

    token = command("token", help="print a dev bearer token signed with the run's key")
    token.add_argument("--workspace", required=True)
    who = token.add_mutually_exclusive_group(required=True)
    who.add_argument("--member")
    who.add_argument(
        "--operator",
        action="store_true",
        help="the deployment's operator: may set the workspace's admins, nothing else",
    )
    token.add_argument(
        "--signing-key-file", type=Path, help="default: the run's key in the data directory"
    )

    workspace = commands.add_parser("workspace", help="operator commands for a workspace")
    workspace_commands = workspace.add_subparsers(dest="workspace_command", required=True)
    create = workspace_commands.add_parser(
        "create",
        help="make a member the workspace's admin (its first one, or another one), as the "
        "deployment's operator (needs the signing key)",
    )
    create.add_argument("--data-dir", type=Path, default=DATA_DIR)
    create.add_argument("--workspace", required=True)
    create.add_argument("--admin", required=True, help="the member id of the admin")
    create.add_argument(
        "--address", action="append", required=True, help="the admin's address (repeatable)"
    )
    create.add_argument(
        "--identity-target",
        help="identity-resolution's gRPC address (WorkspaceService); default: the run's",
    )
    create.add_argument(
        "--signing-key-file",
        type=Path,
        help="used when COMMSINTEL_IDENTITY_SIGNING_KEY is not set; default: the run's key",
    )

    instance = command(
        "instance",
        help="remove an instance that is gone for good from its consumer group, so the "
        "other instances take over its partitions (and ingest its mailboxes) now",
    )
    instance.add_argument("action", choices=["remove"])
    instance.add_argument("service", choices=SERVICES)
    instance.add_argument("instance_id", help="its COMMSINTEL_<SERVICE>_INSTANCE_ID")

    command("status", help="topics, consumer groups and their lag, mailboxes, dead letters")
    command("doctor", help="check Kafka, MongoDB, every gRPC service and the keys")

    dlq = command("dlq", help="dead letters: list, show, redrive")
    dlq.add_argument("action", choices=["list", "show", "redrive"])
    dlq.add_argument("topic", help="a topic (ingest.messages) or its dead-letter topic")
    dlq.add_argument(
        "--offset",
        action="append",
        default=[],
        help="a dead letter as PARTITION:OFFSET of the .dlq topic, or OFFSET (repeatable)",
    )
    dlq.add_argument("--all", action="store_true", help="redrive: every one not redriven yet")
    dlq.add_argument("--again", action="store_true", help="redrive: also those redriven before")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.command in ("run", "import", "serve", "replay"):
        from commsintel.platform.collector import pace_collector_for_large_heaps

        pace_collector_for_large_heaps()
    if args.command == "run":
        from commsintel.run_embedded import run_embedded

        return asyncio.run(run_embedded(args.data_dir, serve=not args.exit_after_summary))
    from commsintel import operator_commands

    command = {
        "import": operator_commands.import_path,
        "serve": operator_commands.serve,
        "replay": operator_commands.replay,
        "token": operator_commands.token,
        "workspace": operator_commands.create_workspace,
        "status": operator_commands.status,
        "doctor": operator_commands.doctor,
        "dlq": operator_commands.dead_letters,
        "instance": operator_commands.remove_instance,
    }[args.command]
    try:
        return asyncio.run(command(args))
    except StackNotConfigured as missing:
        print(f"commsintel {args.command}: {missing}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
