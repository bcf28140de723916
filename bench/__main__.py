import platform
import sys

from bench import parsing, pipeline


def _print(name: str, figures: dict[str, float]) -> None:
    print(f"\n{name}")
    for key, value in figures.items():
        print(
            f"  {key:<36} {value:>12.4g}"
            if isinstance(value, float)
            else f"  {key:<36} {value:>12}"
        )


def main() -> int:
    print(f"python {sys.version.split()[0]} on {platform.machine()}, {platform.system()}")
    wanted = set(sys.argv[1:]) or {"parsing", "pipeline"}
    if "parsing" in wanted:
        _print("parsing (ratio = parse_message time / compat32 baseline time)", parsing.run())
    if "pipeline" in wanted:
        _print("pipeline (ratio = bare consumer time / end-to-end time)", pipeline.run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
