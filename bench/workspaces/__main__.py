"""`python -m bench.workspaces --messages 100000 --seed 7 --out /tmp/ws100k`: write a
synthetic workspace (one mbox and one .ics per member, workspace.json) and say what it
holds and how long it took."""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

from bench.workspaces import generate, write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workspaces", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000, help="distinct messages")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--members", type=int, default=None, help="default: grows with size")
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    workspace = generate(args.messages, seed=args.seed, members=args.members)
    written = write(workspace, args.out)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"workspace {workspace.workspace_id} ({workspace.own_domain}) in {args.out}")
    print(f"  members                 {len(workspace.members):>12,}")
    print(f"  companies               {len(workspace.companies):>12,}")
    print(f"  distinct messages       {written.distinct_messages:>12,}")
    print(f"  mailbox copies          {written.mailbox_copies:>12,}")
    print(f"  quarantined (planted)   {written.quarantined:>12,}")
    print(f"  damaged but readable    {written.damaged:>12,}")
    print(f"  meetings                {written.meetings:>12,}")
    print(f"  calendar copies         {written.calendar_copies:>12,}")
    print(f"  size on disk (MB)       {written.bytes / 1e6:>12,.1f}")
    print(f"  seconds                 {seconds:>12,.1f}")
    print(f"  distinct messages/s     {written.distinct_messages / seconds:>12,.0f}")
    print(f"  peak RSS (MB)           {peak_mb:>12,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
