"""Webhooks: an organization's endpoints, signed deliveries of message events, retries, the log."""
