"""The open platform API: /api/v1 (OpenAPI 3.1 from code), API keys, OAuth for residents'
apps, webhooks, open data, Open311."""
