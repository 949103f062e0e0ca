"""WSGI entry point: `gunicorn wsgi:app`, `flask --app wsgi …`."""

from participation import create_app

app = create_app()
