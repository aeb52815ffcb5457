"""Operations tests: backup and restore, faults, and the production server under load."""
