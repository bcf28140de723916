"""Generate the Python gRPC code for proto/ into commsintel.contracts.proto.

`--check` regenerates into a temporary directory and fails when the committed code
differs (see docs/decisions/0002-generated-grpc-code-is-committed.md).
"""

from __future__ import annotations

import filecmp
import re
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
TARGET = ROOT / "services/contracts/src/commsintel/contracts/proto"
# protoc names modules after the proto package (commsintel.access.v1), which would clash
# with the service packages; the generated code lives under commsintel.contracts.proto.
_IMPORT = re.compile(r"^from commsintel\.(\w+)\.v1 import", re.MULTILINE)


def generate(into: Path) -> None:
    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in PROTO_ROOT.rglob("*.proto"))
    well_known = Path(grpc_tools.__file__).parent / "_proto"
    raw = into / "raw"
    raw.mkdir(parents=True)
    args = [
        "grpc_tools.protoc",
        f"-I{PROTO_ROOT}",
        f"-I{well_known}",
        f"--python_out={raw}",
        f"--pyi_out={raw}",
        f"--grpc_python_out={raw}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    out = into / "proto"
    for generated in (raw / "commsintel").rglob("*.py*"):
        destination = out / generated.relative_to(raw / "commsintel")
        destination.parent.mkdir(parents=True, exist_ok=True)
        text = _IMPORT.sub(r"from commsintel.contracts.proto.\1.v1 import", generated.read_text())
        destination.write_text(text)
    for package in [out, *[p for p in out.rglob("*") if p.is_dir()]]:
        (package / "__init__.py").write_text("")


def _same_tree(a: Path, b: Path) -> bool:
    comparison = filecmp.dircmp(a, b, ignore=["__pycache__"])
    if comparison.left_only or comparison.right_only or comparison.diff_files:
        return False
    return all(_same_tree(a / d, b / d) for d in comparison.common_dirs)


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        generate(Path(scratch))
        fresh = Path(scratch) / "proto"
        if "--check" in sys.argv:
            if TARGET.exists() and _same_tree(fresh, TARGET):
                return 0
            print("generated gRPC code is stale: run `make proto` and commit", file=sys.stderr)
            return 1
        shutil.rmtree(TARGET, ignore_errors=True)
        shutil.copytree(fresh, TARGET)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
