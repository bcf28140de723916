"""The embedded default: a local Kafka-protocol broker (noida-db) and a local
MongoDB-protocol server (SecantusDB), both from PyPI, on loopback ports.

Used by `make run` and, when no Docker engine answers, by the test fixtures. Each
`LocalServer` stops exactly the process it started.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


class LocalServerError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _executable(name: str) -> str:
    beside_python = Path(sys.executable).parent / name
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which(name)
    if found is None:
        raise LocalServerError(f"{name} is not installed (it comes with `uv sync`)")
    return found


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class LocalServer:
    name: str
    command: list[str]
    port: int
    log_path: Path
    process: subprocess.Popen | None = field(default=None, repr=False)

    def start(self, timeout: float = 30.0) -> LocalServer:
        if _accepts_connections(self.port):
            raise LocalServerError(f"port {self.port} is already taken; {self.name} not started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        # A session of its own, so Ctrl-C in the terminal reaches us, not the server.
        self.process = subprocess.Popen(
            self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise LocalServerError(
                    f"{self.name} exited with {self.process.returncode}; see {self.log_path}"
                )
            if _accepts_connections(self.port):
                return self
            time.sleep(0.1)
        self.stop()
        raise LocalServerError(f"{self.name} did not accept connections in {timeout}s")

    def stop(self, timeout: float = 10.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def local_kafka(data_dir: Path, port: int | None = None) -> LocalServer:
    port = port or free_port()
    data_dir.mkdir(parents=True, exist_ok=True)
    command = [_executable("noida-db"), "start", "--data-dir", str(data_dir)]
    command += ["--only", "kafka", "--kafka-port", str(port)]
    return LocalServer("noida-db (Kafka)", command, port, data_dir / "noida-db.log")


def local_mongo(
    data_dir: Path | None,
    port: int | None = None,
    log_dir: Path | None = None,
    cache_size: str | None = None,
):
    """`data_dir=None` keeps everything in memory (tests); a directory persists it.
    `cache_size` ("4G") raises WiredTiger's cache (default 1G): a working set beyond it
    fails writes with WT_CACHE_FULL ("internal server error" to the client)."""
    port = port or free_port()
    storage = ":memory:"
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
        storage = str(data_dir)
    command = [_executable("secantusd-py"), "--port", str(port), "--storage-path", storage]
    if cache_size:
        command += ["--cache-size", cache_size]
    log_path = (log_dir or data_dir or Path(".")) / "secantusd.log"
    return LocalServer("SecantusDB (MongoDB)", command, port, log_path)


def kafka_bootstrap(server: LocalServer) -> str:
    return f"127.0.0.1:{server.port}"


def mongo_uri(server: LocalServer) -> str:
    return f"mongodb://127.0.0.1:{server.port}/?directConnection=true"
