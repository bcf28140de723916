import importlib
import platform
import sys


def _print(name: str, figures: dict[str, float]) -> None:
    print(f"\n{name}")
    for key, value in figures.items():
        print(
            f"  {key:<36} {value:>12.4g}"
            if isinstance(value, float)
            else f"  {key:<36} {value:>12}"
        )


def _benchmark(name: str):
    # Imported when wanted: each loads only the services it runs, so one benchmark's
    # process (and its peak RSS) carries no other service's modules.
    return importlib.import_module(f"bench.{name}")


def main() -> int:
    print(f"python {sys.version.split()[0]} on {platform.machine()}, {platform.system()}")
    # `python -m bench identity=20000` runs the identity benchmark on 20,000 addresses.
    arguments = dict(a.partition("=")[::2] for a in sys.argv[1:])
    wanted = set(arguments) or {
        "parsing",
        "import",
        "imap",
        "mailboxes",
        "pipeline",
        "identity",
        "latency",
        "access",
        "replay",
        "cost",
    }
    if "parsing" in wanted:
        _print(
            "parsing, mixed corpus (rate ratio = parse_message msgs/s / compat32 baseline msgs/s)",
            _benchmark("parsing").run(),
        )
    if "import" in wanted:
        # `python -m bench import=5000` imports a 5,000-message mbox.
        messages = int(arguments.get("import") or 100_000)
        _print(
            f"archive import, {messages:,}-message mixed mbox through the ingest service",
            _benchmark("ingest_import").run(messages),
        )
    if "imap" in wanted:
        # `python -m bench imap=2000` backfills a 2,000-message mailbox.
        messages = int(arguments.get("imap") or 20_000)
        _print(
            f"IMAP backfill, {messages:,} messages from the local Dovecot (ratio vs bare fetch)",
            _benchmark("imap_backfill").run(messages),
        )
    if "mailboxes" in wanted:
        # `python -m bench mailboxes=300`: 300 idle mailboxes on one ingest instance.
        count = int(arguments.get("mailboxes") or 1_000)
        _print(
            f"{count:,} idle mailboxes on one ingest instance, new mail to random ones "
            "(ratio vs a bare IMAP IDLE session's notification)",
            _benchmark("mailboxes").run(count),
        )
    if "identity" in wanted:
        addresses = int(arguments.get("identity") or 1_000_000)
        _print(
            f"identity resolution, {addresses:,} distinct addresses (state in MongoDB)",
            _benchmark("identity").run(addresses),
        )
    if "latency" in wanted:
        rate = float(arguments.get("latency") or 1000)
        _print(
            f"real time: MessageSynced -> attribute served, offered {rate:.0f} msg/s for 10 s",
            _benchmark("latency").run(rate),
        )
    if "access" in wanted:
        _print(
            "access over gRPC (ratio = calls/s vs a bare grpc.aio echo of the same payload, "
            "50 in flight)",
            _benchmark("access").run(),
        )
    if "replay" in wanted:
        # `python -m bench replay=20000` replays a history of 20,000 interactions.
        interactions = int(arguments.get("replay") or 100_000)
        _print(
            f"intelligence replay, {interactions:,} interactions (ratio = bare read time / "
            "replay time, median of 3)",
            _benchmark("replay").run(interactions),
        )
    if "workspaces" in wanted:
        # `python -m bench workspaces=100000`: generation only (not in the default set);
        # `python -m bench.workspaces --out DIR` keeps the files.
        messages = int(arguments.get("workspaces") or 100_000)
        _print(
            f"synthetic workspace generation, {messages:,} distinct messages (seed 7)",
            _benchmark("workspaces").measure(messages),
        )
    if "cost" in wanted:
        # `python -m bench cost=100000`: our own cost per message on a synthetic workspace
        # (10,000 in the default set: about 5 minutes here).
        messages = int(arguments.get("cost") or 10_000)
        _print(
            f"our own cost per message, {messages:,}-message synthetic workspace, each "
            "service its own process (per message = per MessageSynced published)",
            # `backlog=1`: the import first, then the services on its backlog.
            _benchmark("cost").run(messages, backlog=arguments.get("backlog") == "1"),
        )
    if "instances" in wanted:
        # `python -m bench instances=10000 counts=1,2,3`: the same with 1, 2 and 3
        # instances of each consuming service (not in the default set).
        messages = int(arguments.get("instances") or 10_000)
        # `spread=6`: six workspaces of messages/6 each, on six distinct partitions.
        counts = tuple(int(n) for n in (arguments.get("counts") or "1,2,3").split(","))
        spread = int(arguments.get("spread") or 1)
        _print(
            f"several instances, {messages:,} messages in {spread} synthetic workspace(s), "
            f"topics of 6 partitions, {'/'.join(map(str, counts))} instance(s) of each "
            "consuming service",
            # On the import's backlog unless `backlog=0` (pipelined: the import bounds it).
            _benchmark("cost").run_instances(
                messages, counts, spread, backlog=arguments.get("backlog") != "0"
            ),
        )
    if "pipeline" in wanted:
        _print(
            "pipeline (ratio = bare consumer time / end-to-end time)",
            _benchmark("pipeline").run(),
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
