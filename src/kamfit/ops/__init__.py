"""Operating kamfit: backing up the whole database and restoring it (``kamfit backup``)."""
