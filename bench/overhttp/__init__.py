"""``make bench`` over HTTP: the gateway under uvicorn, driven by autocannon on loopback.

Every workload runs against two servers of the same build on the same database, one with
disclosure on and one with ``FIELDGATE_DISCLOSURE=off``, and against the peers that serve
it (GraphQL Yoga + graphql-shield, with and without graphql-jit), in the same interleaved
rounds, so each ratio comes from one run.
"""
