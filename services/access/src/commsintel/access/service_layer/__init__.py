"""Event handlers and the in-memory workspace states the API answers from."""
