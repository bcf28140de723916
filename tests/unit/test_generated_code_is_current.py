import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_committed_grpc_code_matches_the_protos() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts/generate_proto.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
