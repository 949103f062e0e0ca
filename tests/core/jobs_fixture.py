"""A job used by the tests: it records the ids it was given."""

CALLS: list[tuple] = []


def remember(*ids):
    CALLS.append(ids)
