"""Which failures redeliver a batch (infrastructure that passes) and which dead-letter an
event after its tries (the event itself): a killed instance's open transaction made the
restarted one's writes conflict, and those events went to the dead-letter topic."""

from aiokafka.errors import KafkaConnectionError
from pymongo.errors import AutoReconnect, DuplicateKeyError, OperationFailure

from commsintel.platform.streaming import is_transient


def test_a_write_conflict_with_another_transaction_is_redelivered_not_dead_lettered() -> None:
    assert is_transient(OperationFailure("WriteConflict error", code=112))
    labelled = OperationFailure(
        "no such transaction", code=999, details={"errorLabels": ["TransientTransactionError"]}
    )
    assert is_transient(labelled)


def test_lost_connections_are_redelivered() -> None:
    assert is_transient(AutoReconnect("gone"))
    assert is_transient(KafkaConnectionError())
    assert is_transient(TimeoutError())


def test_errors_of_the_event_itself_are_not_transient() -> None:
    assert not is_transient(ValueError("cannot handle this member"))
    assert not is_transient(DuplicateKeyError("dup", code=11000))
    assert not is_transient(OperationFailure("bad value", code=2))
