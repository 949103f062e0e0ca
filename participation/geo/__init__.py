"""Geography: territories' shapes, where a point lies, messages nearby."""
