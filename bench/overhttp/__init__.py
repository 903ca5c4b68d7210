"""``make bench`` over HTTP: the gateway under uvicorn, driven by autocannon on loopback.

Every workload runs against two servers of the same build on the same database, one with
disclosure on and one with ``FIELDGATE_DISCLOSURE=off``, so each figure has its ratio from
the same run; the big support query also runs against a GraphQL Yoga + graphql-shield peer.
"""
