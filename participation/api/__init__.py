"""Machine interfaces of the platform: the REST API, keys, webhooks, open data and Open311."""
