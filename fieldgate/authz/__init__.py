"""Authorization: tokens, principals, purposes, policy, plans, masking (no schema imports)."""
