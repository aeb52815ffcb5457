"""Development plans that turn assessment gaps into actions."""
