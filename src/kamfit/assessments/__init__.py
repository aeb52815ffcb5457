"""People (key account managers and candidates) and the multi-source assessment of them."""
