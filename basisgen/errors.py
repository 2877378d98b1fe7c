"""Exceptions raised by basisgen."""


class EmptyBasisError(ValueError):
    """The kernel constraint has no non-zero solution for the requested setting.

    It is a ``ValueError`` so that callers validating user input can catch both alike; the message
    says which settings would give a non-empty basis.
    """
