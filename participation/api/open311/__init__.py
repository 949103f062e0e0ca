"""Open311 GeoReport v2 under /open311/v2/: the standard city-311 interface to the messages."""
