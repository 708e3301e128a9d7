"""The WSGI entry point: ``gunicorn wsgi:app``; settings come from the PORTAL_* environment."""

from portal import create_app

app = create_app()
