"""Votes on landscaping and budget projects: secret ballots, recountable results, protocols."""
