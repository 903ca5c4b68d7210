"""Rate limits: requests and query cost per minute, per token, partner and client."""
