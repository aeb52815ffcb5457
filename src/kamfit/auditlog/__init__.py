"""The audit trail: an append-only, hash-chained log of security events (A35–A37)."""
