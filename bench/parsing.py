"""Parsing: ingest's parse_message against `email.message_from_bytes` (compat32) plus
`email.utils.getaddresses` on To/Cc, on the same bytes."""

from __future__ import annotations

import email
import email.utils
import time
from collections.abc import Callable

from commsintel.ingest.domain.parsing import MalformedMessage, parse_message
from commsintel.sample_mailboxes import SAMPLE_WORKSPACE, generate_sample_messages


def _baseline(raw: bytes) -> None:
    message = email.message_from_bytes(raw)
    email.utils.getaddresses(message.get_all("To", []) + message.get_all("Cc", []))


def _best_of(repeats: int, messages: list[bytes], parse: Callable[[bytes], object]) -> float:
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        for raw in messages:
            parse(raw)
        best = min(best, time.perf_counter() - started)
    return best


def run(repeats: int = 5) -> dict[str, float]:
    messages = [
        raw for member in SAMPLE_WORKSPACE.members for raw in generate_sample_messages(member)
    ]
    owner = frozenset(m.address for m in SAMPLE_WORKSPACE.members)

    def project(raw: bytes) -> None:
        try:
            parse_message(raw, owner_addresses=owner)
        except MalformedMessage:
            pass

    baseline = _best_of(repeats, messages, _baseline)
    ours = _best_of(repeats, messages, project)
    return {
        "messages": len(messages),
        "baseline_msgs_per_s": len(messages) / baseline,
        "parse_message_msgs_per_s": len(messages) / ours,
        "time_ratio_vs_baseline": ours / baseline,
    }
