"""chaosgate object gateway: PUT/GET/HEAD/DELETE objects in MinIO over HTTP.

Run it with ``python -m gateway``; settings come from the environment
(see ``gateway.config``).
"""
