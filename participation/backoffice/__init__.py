"""Staff cabinet (ЛКО): the entrance, the current organization and the readiness confirmations."""
