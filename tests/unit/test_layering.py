"""Dependencies point inward, checked on every import statement of the tree (an AST walk,
so a lazy import inside a function counts too):
- a service's `domain/` imports only the standard library, its own `domain/`, the shared
  vocabulary in `commsintel.contracts`, and the few pure parsing libraries listed below;
- neither `adapters/` nor `service_layer/` imports `entrypoints/`;
- no service imports another service: they meet in `commsintel.contracts` and run on
  `commsintel.platform`;
- `commsintel.contracts` imports no service and not the platform; the platform imports
  no service."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"ingest", "identity", "intelligence", "access"}
# Pure libraries a domain may parse with: no I/O, no clock (decision 0028).
DOMAIN_LIBRARIES = {
    "publicsuffixlist",  # registrable domains, from the bundled list
    "icalendar",  # .ics parsing
    "recurring_ical_events",  # expanding recurring meetings
    "dateutil",  # recurrence rules
    "jinja2",  # the sandboxed personalization templates
}


def imported_modules(source: str, module: str) -> list[str]:
    """Every module `source` (the module named `module`) imports, absolute."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                package = module.split(".")[: -node.level]
                found.append(".".join([*package, node.module] if node.module else package))
            elif node.module:
                found.append(node.module)
    return found


def violation(module: str, imported: str) -> str | None:
    """Why `module` may not import `imported`, or None when it may."""
    parts, target = module.split("."), imported.split(".")
    top = target[0]
    if parts[:2] == ["commsintel", "contracts"]:
        if target[:2] in (["commsintel", "platform"], *(["commsintel", s] for s in SERVICES)):
            return "contracts import no service and not the platform"
        return None
    if parts[:2] == ["commsintel", "platform"]:
        if target[:1] == ["commsintel"] and len(target) > 1 and target[1] in SERVICES:
            return "the platform imports no service"
        return None
    if parts[0] != "commsintel" or len(parts) < 3 or parts[1] not in SERVICES:
        return None
    service, layer = parts[1], parts[2]
    if top == "commsintel" and len(target) > 1 and target[1] in SERVICES - {service}:
        return f"{service} imports another service ({target[1]})"
    if layer == "domain":
        if top == "__future__" or top in sys.stdlib_module_names or top in DOMAIN_LIBRARIES:
            return None
        if target[:3] == ["commsintel", service, "domain"] or target[:2] == [
            "commsintel",
            "contracts",
        ]:
            return None
        return f"domain imports {imported}"
    if layer in ("adapters", "service_layer") and target[:3] == [
        "commsintel",
        service,
        "entrypoints",
    ]:
        return f"{layer} imports the entrypoints"
    return None


def _modules() -> dict[str, Path]:
    modules = {}
    for source_root in sorted(ROOT.glob("services/*/src")):
        for path in sorted(source_root.rglob("*.py")):
            relative = path.relative_to(source_root).with_suffix("")
            if "proto" in relative.parts:
                continue  # generated
            name = ".".join(relative.parts).removesuffix(".__init__")
            modules[name] = path
    return modules


def test_every_import_points_inward() -> None:
    modules = _modules()
    assert {m.split(".")[1] for m in modules} >= SERVICES | {"contracts", "platform"}
    broken = [
        f"{path.relative_to(ROOT)}: {why}"
        for module, path in modules.items()
        for imported in imported_modules(path.read_text(), module)
        if (why := violation(module, imported)) is not None
    ]
    assert broken == []


def test_the_check_catches_each_kind_of_wrong_import() -> None:
    # A domain reaching for its store, a driven adapter for the servicer, a service for
    # another, and the shared packages for what builds on them.
    assert violation("commsintel.access.domain.state", "commsintel.access.adapters.store")
    assert violation("commsintel.access.domain.state", "pymongo")
    assert violation("commsintel.ingest.domain.parsing", "commsintel.platform.streaming")
    assert violation("commsintel.ingest.adapters.imap", "commsintel.ingest.entrypoints.grpc_api")
    assert violation("commsintel.ingest.service_layer.sync", "commsintel.ingest.entrypoints")
    assert violation("commsintel.access.bootstrap", "commsintel.intelligence.adapters.store")
    assert violation("commsintel.contracts.events", "commsintel.platform.telemetry")
    assert violation("commsintel.platform.streaming", "commsintel.identity.ports")
    # What is allowed.
    assert not violation("commsintel.access.domain.state", "commsintel.contracts.events")
    assert not violation("commsintel.access.domain.state", "collections.abc")
    assert not violation("commsintel.access.entrypoints.grpc_api", "commsintel.access.ports")
    assert not violation("commsintel.access.bootstrap", "commsintel.access.entrypoints")


def test_relative_imports_are_resolved_before_they_are_checked() -> None:
    source = "from ..adapters import store\nfrom . import links\n"
    assert imported_modules(source, "commsintel.access.domain.state") == [
        "commsintel.access.adapters",
        "commsintel.access.domain",
    ]
