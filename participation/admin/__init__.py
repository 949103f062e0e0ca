"""Organization administration: the organization's staff and their roles."""
