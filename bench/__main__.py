import platform
import sys

from bench import identity, ingest_import, latency, parsing, pipeline


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
    # `python -m bench identity=20000` runs the identity benchmark on 20,000 addresses.
    arguments = dict(a.partition("=")[::2] for a in sys.argv[1:])
    wanted = set(arguments) or {"parsing", "import", "pipeline", "identity", "latency"}
    if "parsing" in wanted:
        _print(
            "parsing, mixed corpus (rate ratio = parse_message msgs/s / compat32 baseline msgs/s)",
            parsing.run(),
        )
    if "import" in wanted:
        # `python -m bench import=5000` imports a 5,000-message mbox.
        messages = int(arguments.get("import") or 100_000)
        _print(
            f"archive import, {messages:,}-message mixed mbox through the ingest service",
            ingest_import.run(messages),
        )
    if "identity" in wanted:
        addresses = int(arguments.get("identity") or 1_000_000)
        _print(
            f"identity resolution, {addresses:,} distinct addresses (state in MongoDB)",
            identity.run(addresses),
        )
    if "latency" in wanted:
        rate = float(arguments.get("latency") or 1000)
        _print(
            f"real time: MessageSynced -> attribute served, offered {rate:.0f} msg/s for 10 s",
            latency.run(rate),
        )
    if "pipeline" in wanted:
        _print("pipeline (ratio = bare consumer time / end-to-end time)", pipeline.run())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
