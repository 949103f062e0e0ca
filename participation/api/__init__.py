"""The platform's machine interface: /api/v1, API keys, webhooks, open data, Open311."""
