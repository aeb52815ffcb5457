"""Background work: imports, batch reports and reminders, run by ``kamfit worker``."""
