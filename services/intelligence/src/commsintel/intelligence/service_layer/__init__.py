"""Event handlers: events -> the interaction book -> buckets and strengths."""
