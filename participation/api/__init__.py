"""The open platform API: /api/v1 (OpenAPI 3.1 from code), OAuth for residents' apps, keys."""
