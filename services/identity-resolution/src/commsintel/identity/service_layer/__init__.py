"""Event handlers: inputs -> the identity slice -> records, links, merges and values."""
