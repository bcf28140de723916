"""`python -m bench.workspaces --messages 100000 --seed 7 --out /tmp/ws100k`: write a
synthetic workspace (one mbox and one .ics per member, workspace.json) and say what it
holds and how long it took."""

from __future__ import annotations

import argparse
from pathlib import Path

from bench.workspaces.writer import measure


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.workspaces", description=__doc__)
    parser.add_argument("--messages", type=int, default=10_000, help="distinct messages")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--members", type=int, default=None, help="default: grows with size")
    parser.add_argument("--out", type=Path, required=True, help="directory to write into")
    args = parser.parse_args(argv)

    figures = measure(args.messages, seed=args.seed, members=args.members, out_dir=args.out)
    print(f"synthetic workspace, seed {args.seed}, in {args.out}")
    for key, value in figures.items():
        print(
            f"  {key:<24} {value:>14,.1f}"
            if isinstance(value, float)
            else f"  {key:<24} {value:>14,}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
