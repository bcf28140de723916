#!/bin/sh
# Creates commsintel's topics with their intended layout before any service starts.
# Run once by the `kafka-init` service in deploy/compose.yaml; safe to re-run
# (--if-not-exists). Kubernetes uses KafkaTopic resources instead
# (deploy/kubernetes/kafka-topics.yaml): keep the two in step.
#
# Every topic is keyed by workspace_id, so the partition count bounds how many
# consumers of one group can work in parallel. 12 partitions for the main topics,
# 3 for the dead-letter topics (low volume, read by operators).
#
# Main topics keep everything (retention.ms=-1): Kafka is the system of record and
# every projection is rebuilt by replaying the topics from the start.
# Dead-letter topics keep 90 days: enough to diagnose and re-drive poison
# messages, and a replay of the main topics reproduces them anyway.
set -eu

BOOTSTRAP="${BOOTSTRAP:-kafka-1:9092,kafka-2:9092,kafka-3:9092}"
KAFKA_TOPICS=/opt/kafka/bin/kafka-topics.sh

TOPICS="ingest.mailboxes ingest.messages ingest.calendar identity.records identity.interactions workspace.settings access.grants"

create() {
    # $1 topic, $2 partitions, $3 retention.ms
    "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --create --if-not-exists \
        --topic "$1" --partitions "$2" --replication-factor 3 \
        --config min.insync.replicas=2 \
        --config retention.ms="$3"
}

# The brokers answer their health check before the controller quorum has settled;
# wait until the cluster accepts admin requests.
tries=0
until "$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --list >/dev/null 2>&1; do
    tries=$((tries + 1))
    if [ "$tries" -ge 60 ]; then
        echo "kafka-init: cluster at $BOOTSTRAP did not answer" >&2
        exit 1
    fi
    sleep 2
done

for topic in $TOPICS; do
    create "$topic" 12 -1
    create "$topic.dlq" 3 7776000000
done

# ingest's own work queue, keyed by mailbox: its partitions are how ingest replicas share
# the mailboxes (docs/decisions/0027), so 48 bounds the replicas, not the main topics'
# 12. Requests are not a record of anything: kept 7 days.
create ingest.sync-requests 48 604800000
create ingest.sync-requests.dlq 3 7776000000

"$KAFKA_TOPICS" --bootstrap-server "$BOOTSTRAP" --describe --topics-with-overrides
echo "kafka-init: topics ready"
