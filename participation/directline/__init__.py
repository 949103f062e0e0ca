"""Direct lines: residents' questions to the head of a region or municipality, answered live."""
