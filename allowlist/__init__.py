"""The contract between the portal and everything that enforces access; importable without Flask."""
