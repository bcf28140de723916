"""`make run` is found from a second terminal through its data directory alone, and stops
at once: one SIGTERM to its process group (what a terminal, `timeout`
or a supervisor sends; `uv run` forwards a second one to its child) ends the services and
both local servers within 10 s, with no traceback, and the stack file goes away."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from commsintel.contracts.auth import TokenVerifier

pytestmark = [pytest.mark.e2e]


def _accepts(address: str) -> bool:
    host, port = address.rsplit(":", 1)
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except OSError:
        return False


def test_a_second_terminal_finds_the_run_and_one_sigterm_stops_it_within_ten_seconds(
    tmp_path: Path,
) -> None:
    data_dir = tmp_path / "data"
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        run = subprocess.Popen(
            [sys.executable, "-m", "commsintel.cli", "run", "--data-dir", str(data_dir)],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Wait until the services run and the sample import is under way.
        deadline = time.monotonic() + 120
        while "workspace northwind: admin" not in log.read_text():
            assert run.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        stack = json.loads((data_dir / "stack.json").read_text())
        assert _accepts(stack["kafka_bootstrap"])

        # A second terminal, with nothing in its environment, finds the run through its
        # data directory: a token signed with the run's key, and the topics' status.
        clean = {k: v for k, v in os.environ.items() if not k.startswith("COMMSINTEL_")}
        for argv, expected in (
            (["token", "--workspace", "northwind", "--member", "alice"], "eyJ"),
            (["status"], "consumer groups"),
        ):
            done = subprocess.run(
                [sys.executable, "-m", "commsintel.cli", *argv, "--data-dir", str(data_dir)],
                env=clean,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert done.returncode == 0 and expected in done.stdout, done.stderr
            if argv[0] == "token":
                key = (data_dir / "dev-signing-key").read_text().strip()
                assert TokenVerifier(key).verify(done.stdout.strip()).member_id == "alice"

        # The group's SIGTERM, and a second one as `uv run` forwards it.
        stopping = time.monotonic()
        os.killpg(run.pid, signal.SIGTERM)
        time.sleep(0.2)
        if run.poll() is None:
            os.kill(run.pid, signal.SIGTERM)
        assert run.wait(timeout=10) == 0
        assert time.monotonic() - stopping < 10
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
    output = log.read_text()
    assert "Traceback" not in output and "CancelledError" not in output, output
    assert output.rstrip().endswith("stopped"), output
    assert not (data_dir / "stack.json").exists()
    mongo = stack["mongo_uri"].removeprefix("mongodb://").split("/")[0]
    assert not _accepts(stack["kafka_bootstrap"]) and not _accepts(mongo)


@pytest.mark.kafka
@pytest.mark.mongo
def test_a_served_service_stops_within_ten_seconds_of_one_sigterm(
    pipeline_config, tmp_path: Path
) -> None:
    from commsintel.embedded import free_port
    from tests.support.process_pipeline import ProcessPipeline

    environment = ProcessPipeline(
        pipeline_config, tmp_path, access_port=free_port(), intelligence_port=free_port()
    ).environment()
    log = tmp_path / "serve.log"
    with log.open("wb") as output:
        serve = subprocess.Popen(
            [sys.executable, "-m", "commsintel.cli", "serve", "intelligence"],
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while "intelligence running" not in log.read_text():
            assert serve.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        stopping = time.monotonic()
        os.killpg(serve.pid, signal.SIGTERM)
        assert serve.wait(timeout=10) == 0
        assert time.monotonic() - stopping < 10
    finally:
        if serve.poll() is None:
            os.killpg(serve.pid, signal.SIGKILL)
            serve.wait()
    assert "Traceback" not in log.read_text(), log.read_text()
