"""Identity: signed tokens, their signing key, issuance, passwords and revocations."""
