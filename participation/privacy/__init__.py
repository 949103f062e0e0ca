"""Personal data: retention terms and their purge (152-ФЗ), a resident's download of their data."""
