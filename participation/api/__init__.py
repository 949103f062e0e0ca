"""The platform API: /api/v1 (OpenAPI 3.1 from code, problem+json errors, API keys) and Open311."""
