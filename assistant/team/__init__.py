"""For teams: the audit log (and, as they come, accounts, saved conversations and exports)."""
