"""Embeddable widgets: an organization's entry point on its own website (DOMAIN.md § 8)."""
