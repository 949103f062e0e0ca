"""A local ESIA emulator (development and tests): the same endpoints and contract as ESIA.

Mounted under `/esia` only when ESIA_EMULATOR is on. It is an identity provider of its own:
its people come from the demo personas, never from the platform's users table; registered
client systems and issued codes live in the database so that every process sees them.
"""
