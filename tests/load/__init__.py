"""``make bench-load``: the production server under 50 simulated users (docs/operations.md)."""
