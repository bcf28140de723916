"""How commands find the local stack: the environment first, then a running stack's
file, never an invented key."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from commsintel import local_stack
from commsintel.local_stack import LocalStack, StackNotConfigured, read_stack, write_stack


@pytest.fixture(autouse=True)
def no_environment(monkeypatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("COMMSINTEL_") and not name.startswith("COMMSINTEL_TEST_"):
            monkeypatch.delenv(name)


def _stack(directory: Path, pid: int | None = None) -> LocalStack:
    (directory / "dev-signing-key").write_text("the-runs-key\n")
    stack = LocalStack(
        "127.0.0.1:19092",
        "mongodb://127.0.0.1:27018/",
        {"access": "127.0.0.1:50051"},
        str(directory / "dev-signing-key"),
        str(directory / "dev-encryption-key"),
        **({"pid": pid} if pid else {}),
    )
    write_stack(directory, stack)
    return stack


def test_a_stack_file_left_by_a_killed_run_counts_as_no_stack(tmp_path: Path) -> None:
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    _stack(tmp_path, pid=int(gone.stdout))
    assert read_stack(tmp_path) is None
    _stack(tmp_path)  # this process: running
    assert read_stack(tmp_path).kafka_bootstrap == "127.0.0.1:19092"


def test_a_broken_stack_file_is_one_line_naming_it(tmp_path: Path) -> None:
    (tmp_path / "stack.json").write_text("{not json")
    with pytest.raises(StackNotConfigured, match=r"stack\.json is not a stack file"):
        read_stack(tmp_path)


def test_the_signing_key_comes_from_the_environment_then_the_run_and_is_never_made(
    tmp_path: Path, monkeypatch
) -> None:
    with pytest.raises(StackNotConfigured, match="COMMSINTEL_ACCESS_SIGNING_KEY"):
        local_stack.signing_key(tmp_path)
    assert list(tmp_path.iterdir()) == []  # no key was invented
    _stack(tmp_path)
    assert local_stack.signing_key(tmp_path) == "the-runs-key"
    monkeypatch.setenv("COMMSINTEL_IDENTITY_SIGNING_KEY", "the-deployments-key")
    assert local_stack.signing_key(tmp_path) == "the-deployments-key"


def test_the_environment_naming_the_servers_wins_over_the_stack(
    tmp_path: Path, monkeypatch
) -> None:
    _stack(tmp_path)
    (tmp_path / "dev-encryption-key").write_text("k")
    from_stack = local_stack.service_settings("access", tmp_path, check=False)
    assert from_stack.kafka_bootstrap == "127.0.0.1:19092"
    assert from_stack.signing_key == "the-runs-key" and from_stack.grpc_bind == "127.0.0.1:50051"
    monkeypatch.setenv("COMMSINTEL_ACCESS_KAFKA_BOOTSTRAP", "kafka-0:9092")
    monkeypatch.setenv("COMMSINTEL_ACCESS_SIGNING_KEY", "k2")
    from_environment = local_stack.service_settings("access", tmp_path, check=False)
    assert from_environment.kafka_bootstrap == "kafka-0:9092"
    assert from_environment.signing_key == "k2"
