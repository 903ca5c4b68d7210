"""Policy distribution: the policy in files or the database, watched, notified and changed."""
