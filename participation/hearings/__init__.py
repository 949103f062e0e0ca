"""Public hearings and public discussions of draft acts (Town Planning Code art. 5.1)."""
