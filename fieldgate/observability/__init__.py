"""Operations: structured logs, Prometheus metrics, readiness and the request line."""
