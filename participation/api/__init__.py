"""The platform API under /api/v1: OpenAPI 3.1 from code, problem+json errors, API keys."""
