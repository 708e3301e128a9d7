"""The bodies of ``/api/v1``, defined once: pydantic models that validate requests, describe answers
and generate the OpenAPI document (``portal/api/openapi.py``).

``requests``: what callers send (strict: no coercion, unknown fields refused). ``responses``: what the
API answers. ``firewall``: the report a firewall agent sends. ``types``: the field types they share.
"""
