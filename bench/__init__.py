"""In-process benchmarks of fieldgate's disclosure engine (``python -m bench``).

Each workload runs the same operation through the same schema, once with disclosure on
(the packaged policy) and once with it switched off (every field FULL, same resolvers,
same SQL shape), interleaved so that machine noise hits both; the cost ratio is
``mean_on / mean_off``.
"""
