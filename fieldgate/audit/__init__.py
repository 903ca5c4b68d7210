"""The audit trail: events, the fail-closed rule, the writer, the hash chain, its store
and verification."""
