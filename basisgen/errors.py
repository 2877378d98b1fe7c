"""Exceptions raised by basisgen."""


class EmptyBasisError(ValueError):
    """The kernel constraint has no non-zero solution for the requested setting.

    It is a ``ValueError`` so that callers validating user input can catch both alike; the message
    says which settings would give a non-empty basis.
    """


class InvalidValueError(ValueError, AssertionError):
    """An argument has a value outside what is valid; the message names the argument and what is valid.

    Also an ``AssertionError``: e2cnn validated its arguments with ``assert``, and code written for it
    (its own tutorial among it) catches ``AssertionError``; that code keeps working, while new code
    catches ``ValueError``.

    Examples
    --------
    >>> try:
    ...     raise InvalidValueError("N must be an int > 1, got 0")
    ... except AssertionError as e:
    ...     print(type(e).__name__, isinstance(e, ValueError))
    InvalidValueError True
    """


class InvalidTypeError(TypeError, AssertionError):
    """An argument has the wrong type; also an ``AssertionError``, for the reason given in
    :class:`InvalidValueError`."""
