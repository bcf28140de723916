import json
import subprocess
import sys
from pathlib import Path

from commsintel.contracts.events import EVENT_TYPES

ROOT = Path(__file__).resolve().parents[2]


def test_committed_asyncapi_document_matches_the_event_contracts() -> None:
    check = subprocess.run(
        [sys.executable, str(ROOT / "scripts/generate_asyncapi.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_every_event_type_is_documented_on_its_topic() -> None:
    document = json.loads((ROOT / "docs/asyncapi.json").read_text())
    assert document["asyncapi"] == "3.0.0"
    assert set(document["components"]["messages"]) == set(EVENT_TYPES)
    addresses = {c["address"] for c in document["channels"].values()}
    assert {model.TOPIC for model in EVENT_TYPES.values()} <= addresses
