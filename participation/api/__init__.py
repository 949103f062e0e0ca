"""The open platform API: /api/v1, OAuth for residents' apps, keys, webhooks, Open311."""
