"""nftables enforcement of the allowlist snapshot: render, check, apply atomically, roll back.

Imports ``allowlist`` (the snapshot contract), never ``portal`` and never Flask.
"""
