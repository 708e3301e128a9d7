"""Filming permits at the office's collection points (R11): reference data, requests, decisions, permits."""
