"""Errors of the profiling harness, each with a message a user can act on."""


class ProfileError(Exception):
    """The profile could not be taken or read; the message says why and what to do."""
