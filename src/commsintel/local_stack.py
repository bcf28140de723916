"""Where the local stack is: `commsintel run` writes `<data-dir>/stack.json` (the Kafka
and MongoDB addresses, every gRPC service's address, and the paths of its key files, never
the keys), and every other command builds its settings from it when the environment does
not name the servers.

The rule: the environment first (a deployment sets COMMSINTEL_<SERVICE>_*), else the
stack file, else one line that says what to start or set. No command but `run` ever makes
a key: a token signed with an invented key is refused by the servers.
"""

from __future__ import annotations

import importlib
import json
import os
import socket
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import ModuleType

from pydantic import ValidationError

DATA_DIR = Path(".commsintel")
STACK_FILE = "stack.json"
SIGNING_KEY_FILE = "dev-signing-key"
ENCRYPTION_KEY_FILE = "dev-encryption-key"

# The CLI's service names and their settings' environment prefixes.
ENV_PREFIXES = {
    "ingest": "COMMSINTEL_INGEST_",
    "identity-resolution": "COMMSINTEL_IDENTITY_",
    "intelligence": "COMMSINTEL_INTELLIGENCE_",
    "access": "COMMSINTEL_ACCESS_",
}
# Each service's package: its `bootstrap` module is the one place it is wired.
PACKAGES = {
    "ingest": "ingest",
    "identity-resolution": "identity",
    "intelligence": "intelligence",
    "access": "access",
}
# What each server offers, for the summary and `doctor`.
GRPC_SERVICES = {
    "access": ("AccessService",),
    "intelligence": ("IntelligenceService",),
    "identity-resolution": ("WorkspaceService", "IdentityService"),
    "ingest": ("MailboxService", "SendService", "ContentService"),
}


class StackNotConfigured(Exception):
    """A setting or file a command needs is missing; the message is one line for a user."""


@dataclass(frozen=True)
class LocalStack:
    kafka_bootstrap: str
    mongo_uri: str
    grpc: dict[str, str]  # CLI service name -> host:port
    signing_key_file: str
    encryption_key_file: str
    name: str = "commsintel"  # the prefix of databases and consumer groups
    pid: int = field(default_factory=os.getpid)

    def signing_key(self) -> str:
        return read_key(Path(self.signing_key_file), "COMMSINTEL_ACCESS_SIGNING_KEY")

    def encryption_key(self) -> str:
        return read_key(Path(self.encryption_key_file), "COMMSINTEL_INGEST_ENCRYPTION_KEY")


def write_stack(data_dir: Path, stack: LocalStack) -> Path:
    path = data_dir / STACK_FILE
    partial = path.with_suffix(".json.partial")
    partial.write_text(json.dumps(asdict(stack), indent=2) + "\n")
    partial.replace(path)
    return path


def remove_stack(data_dir: Path) -> None:
    (data_dir / STACK_FILE).unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def read_stack(data_dir: Path) -> LocalStack | None:
    """The stack `commsintel run` started in `data_dir`, if it is still running."""
    path = data_dir / STACK_FILE
    try:
        stack = LocalStack(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as broken:
        raise StackNotConfigured(f"{path} is not a stack file ({broken}); remove it") from None
    # A run killed with SIGKILL leaves its file behind.
    return stack if _running(stack.pid) else None


def require_stack(data_dir: Path, prefix: str = "COMMSINTEL_INGEST_") -> LocalStack:
    stack = read_stack(data_dir)
    if stack is None:
        raise StackNotConfigured(
            f"no running stack found in {data_dir}/ (start `make run`, or set "
            f"{prefix}KAFKA_BOOTSTRAP and {prefix}MONGO_URI)"
        )
    return stack


def read_key(path: Path, variable: str) -> str:
    try:
        key = path.read_text().strip()
    except FileNotFoundError:
        raise StackNotConfigured(
            f"key file {path} not found (`commsintel run` makes it; or set {variable})"
        ) from None
    if not key:
        raise StackNotConfigured(f"key file {path} is empty (or set {variable})")
    return key


def signing_key(data_dir: Path, key_file: Path | None = None) -> str:
    """The key the servers check tokens with: the environment's, an explicit file, the
    running stack's, else the run's key file in `data_dir`. Never a new one."""
    for variable in ("COMMSINTEL_ACCESS_SIGNING_KEY", "COMMSINTEL_IDENTITY_SIGNING_KEY"):
        if key := os.environ.get(variable):
            return key
    if key_file is not None:
        return read_key(key_file, "COMMSINTEL_ACCESS_SIGNING_KEY")
    stack = read_stack(data_dir)
    if stack is not None:
        return stack.signing_key()
    return read_key(data_dir / SIGNING_KEY_FILE, "COMMSINTEL_ACCESS_SIGNING_KEY")


def _environment_names_servers(prefix: str) -> bool:
    return any(os.environ.get(prefix + name) for name in ("KAFKA_BOOTSTRAP", "MONGO_URI"))


def service_settings(service: str, data_dir: Path, *, check: bool = True, **overrides):
    """`service`'s settings: from its environment when that names the servers, else
    from the running stack in `data_dir` (with the stack's ports and keys). With `check`,
    a Kafka or MongoDB that does not accept connections is one line, not a 30 s wait."""
    settings = _service_settings(service, data_dir, **overrides)
    if check:
        prefix = ENV_PREFIXES[service]
        from_environment = _environment_names_servers(prefix) or read_stack(data_dir) is None
        stack_file = str(data_dir / STACK_FILE)
        require_reachable(
            settings.kafka_bootstrap,
            settings.mongo_uri,
            _source(f"{prefix}KAFKA_BOOTSTRAP") if from_environment else stack_file,
            _source(f"{prefix}MONGO_URI") if from_environment else stack_file,
        )
    return settings


def _source(variable: str) -> str:
    if variable in os.environ:
        return variable
    return f"the default: {variable} is not set and no `make run` is running"


def bootstrap_of(service: str) -> ModuleType:
    """The service's wiring: `build(settings)` and, for a projection, `build_replay`."""
    return importlib.import_module(f"commsintel.{PACKAGES[service]}.bootstrap")


def _service_settings(service: str, data_dir: Path, **overrides):
    from commsintel.access.config import AccessSettings
    from commsintel.identity.config import IdentitySettings
    from commsintel.ingest.config import IngestSettings
    from commsintel.intelligence.config import IntelligenceSettings

    prefix = ENV_PREFIXES[service]
    classes = {
        "ingest": IngestSettings,
        "identity-resolution": IdentitySettings,
        "intelligence": IntelligenceSettings,
        "access": AccessSettings,
    }
    if _environment_names_servers(prefix):
        try:
            return classes[service](**overrides)
        except ValidationError as invalid:
            raise StackNotConfigured(_one_line(invalid, prefix)) from None
    stack = read_stack(data_dir)
    if stack is None and any(name.startswith(prefix) for name in os.environ):
        # A deployment that keeps the default addresses and sets only the rest.
        try:
            return classes[service](**overrides)
        except ValidationError as invalid:
            raise StackNotConfigured(_one_line(invalid, prefix)) from None
    stack = stack or require_stack(data_dir, prefix)
    config = pipeline_config(stack, service)
    grpc = {"identity-resolution": "", "intelligence": "", "ingest": "", **stack.grpc}
    settings = {
        "ingest": lambda: config.ingest(identity_target=grpc["identity-resolution"]),
        "identity-resolution": config.identity,
        "intelligence": config.intelligence,
        "access": lambda: config.access(grpc["intelligence"], grpc["ingest"]),
    }[service]()
    return settings.model_copy(update=overrides)


def pipeline_config(stack: LocalStack, service: str | None = None):
    from commsintel.pipeline import PipelineConfig

    grpc = stack.grpc
    return PipelineConfig(
        kafka_bootstrap=stack.kafka_bootstrap,
        mongo_uri=stack.mongo_uri,
        signing_key=stack.signing_key(),
        access_bind=grpc.get("access", "127.0.0.1:0"),
        intelligence_bind=grpc.get("intelligence", "127.0.0.1:0"),
        identity_bind=grpc.get("identity-resolution", "127.0.0.1:0"),
        ingest_bind=grpc.get("ingest", "127.0.0.1:0"),
        # Only ingest needs the master key; other commands work without its file.
        encryption_key=stack.encryption_key() if service in ("ingest", None) else "",
        name=stack.name,
        outbound_allowed_networks="127.0.0.0/8,::1/128",
    )


def kafka_and_mongo(data_dir: Path, *, check: bool = True) -> tuple[str, str, str]:
    """The broker, the store and the name prefix, for the operator commands."""
    prefix = ENV_PREFIXES["ingest"]
    if _environment_names_servers(prefix):
        settings = service_settings(
            "ingest", data_dir, check=check, encryption_key="unused", signing_key="unused"
        )
        return settings.kafka_bootstrap, settings.mongo_uri, "commsintel"
    stack = require_stack(data_dir, prefix)
    if check:
        where = str(data_dir / STACK_FILE)
        require_reachable(stack.kafka_bootstrap, stack.mongo_uri, where, where)
    return stack.kafka_bootstrap, stack.mongo_uri, stack.name


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=3):
            return True
    except OSError:
        return False


def require_reachable(kafka_bootstrap: str, mongo_uri: str, kafka_from: str, mongo_from: str):
    """Some Kafka bootstrap server and some MongoDB host accept connections."""
    from pymongo.uri_parser import parse_uri

    kafka = []
    for server in kafka_bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        kafka.append((host.strip("[]") or "127.0.0.1", int(port or 9092)))
    if not any(_accepts(host, port) for host, port in kafka):
        raise StackNotConfigured(f"cannot reach Kafka at {kafka_bootstrap} (from {kafka_from})")
    if mongo_uri.startswith("mongodb+srv://"):
        return  # its hosts come from DNS; the driver reports on them
    try:
        nodes = parse_uri(mongo_uri)["nodelist"]
    except Exception:
        raise StackNotConfigured(f"{mongo_from} is not a MongoDB connection string") from None
    if not any(_accepts(host, port) for host, port in nodes):
        raise StackNotConfigured(f"cannot reach MongoDB at {mongo_uri} (from {mongo_from})")


def _one_line(invalid: ValidationError, prefix: str) -> str:
    problems = []
    for error in invalid.errors():
        variable = prefix + "_".join(str(part) for part in error["loc"]).upper()
        missing = error["type"] == "missing"
        problems.append(f"{variable} is not set" if missing else f"{variable}: {error['msg']}")
    return "; ".join(problems)
