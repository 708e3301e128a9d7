"""Tests of portal.signatures; pki.py is the test PKI that other tests import."""
