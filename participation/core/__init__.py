"""Shared infrastructure: database, jobs, outbox, audit, files, permissions; imports no feature."""
