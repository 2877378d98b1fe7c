"""The PDO options of the ``basisgen`` command (a helper of ``cli.py``): ``--diffop`` and R2Diffop's settings.

One table of options, shared by ``precompute``, ``inspect`` and ``plot`` (``latex`` takes the orders only);
:func:`diffop_settings` turns what was given into :func:`basisgen.pdo_sampling.diffop_params`' keyword
arguments, so the parameters are built by the library from one place; :func:`usage_error` names the options
in the library's messages.
"""
from __future__ import annotations

import re
from typing import Any, Callable, Dict, Mapping, Optional

import click
from click.core import ParameterSource

OPTIONS = {
    "diffop": click.option("--diffop", is_flag=True,
                           help="Steerable PDO bases (R2Diffop: stencils of differential operators) instead of "
                                "kernels (R2Conv)."),
    "maximum_order": click.option("--maximum-order", type=click.IntRange(0),
                                  help="--diffop: the largest derivative order (default: the largest -k allows). "
                                       "Given without -k, it sets the kernel size (with --accuracy)."),
    "maximum_power": click.option("--maximum-power", type=click.IntRange(0),
                                  help="--diffop: the largest power of the Laplacian (default and cap: order // 2)."),
    "accuracy": click.option("--accuracy", type=click.IntRange(1),
                             help="--diffop: the accuracy of the stencils (default 2); two of -k, --maximum-order "
                                  "and --accuracy fix the third."),
    "smoothing": click.option("--smoothing", type=float,
                              help="--diffop: Gaussian derivatives of this width (the gauss method; default fd)."),
    "rbffd": click.option("--rbffd", is_flag=True, help="--diffop: RBF-FD stencils (the rbffd method; default fd)."),
    "angle_offset": click.option("--angle-offset", type=float,
                                 help="--diffop: turn every operator by this angle, in radians."),
}

# the library's argument names as the options that set them, longest first
_NAMES = [("rbffd=True", "--rbffd"), ("kernel_size", "--kernel-size"), ("maximum_order", "--maximum-order"),
          ("maximum_power", "--maximum-power"), ("maximum_offset", "--maximum-offset"), ("angle_offset",
          "--angle-offset"), ("smoothing", "--smoothing"), ("accuracy", "--accuracy"), ("dilation", "--dilation"),
          ("rbffd", "--rbffd")]
_NAME = re.compile("|".join(rf"(?<![\w-]){re.escape(a)}(?![\w=])" for a, _ in _NAMES))


def diffop_options(*names: str) -> Callable:
    """Add the options ``names`` (default: all) to a command; its function takes them as ``**diffop``."""
    def decorate(f):
        for name in reversed(names or tuple(OPTIONS)):
            f = OPTIONS[name](f)
        return f
    return decorate


def flag(name: str) -> str:
    """The option of a keyword argument.

    Examples
    --------
    >>> flag("maximum_order")
    '--maximum-order'
    """
    return "--" + name.replace("_", "-")


def diffop_settings(options: Mapping[str, Any], kernel_only: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The :func:`~basisgen.pdo_sampling.diffop_params` keyword arguments of the given PDO ``options`` (the
    command's ``**diffop``), or ``None`` without ``--diffop``.

    Usage errors: a PDO option without ``--diffop``; with it, a kernel option of ``kernel_only`` (option ->
    value) that was given.
    """
    settings = dict(options)
    if not settings.pop("diffop"):
        given = [name for name, value in settings.items() if value not in (None, False)]
        if given:
            raise click.UsageError(f"{flag(given[0])} applies to PDO bases: add --diffop")
        return None
    wrong = [option for option, value in kernel_only.items() if value is not None]
    if wrong:
        raise click.UsageError(f"{wrong[0]} does not apply to PDO bases (--diffop)")
    return settings


def kernel_size_given(name: str = "kernel_size") -> bool:
    """Whether the current command's option ``name`` was given (not its default)."""
    source = click.get_current_context().get_parameter_source(name)
    return source not in (None, ParameterSource.DEFAULT)


def grid_kernel_size(settings: Mapping[str, Any], value: Any, name: str = "kernel_size") -> Any:
    """The kernel size to pass with ``settings``: ``value``, or ``None`` (the size follows from the order and
    the accuracy, as in R2Diffop) when ``--maximum-order`` was given and ``-k`` was not."""
    if settings.get("maximum_order") is not None and not kernel_size_given(name):
        return None
    return value


def usage_error(err: Exception) -> click.UsageError:
    """A library error about the PDO settings as a usage error that names the options.

    Examples
    --------
    >>> usage_error(ValueError("smoothing and rbffd=True exclude each other")).message
    '--smoothing and --rbffd exclude each other'
    """
    return click.UsageError(_NAME.sub(lambda m: dict(_NAMES)[m.group(0)], str(err)))


def diffop_params_of(settings: Mapping[str, Any], kernel_size: Any, **grid: Any):
    """:func:`~basisgen.pdo_sampling.diffop_params` of the settings, ``kernel_size`` and the grid options
    (``dilation``, ``maximum_offset``, ``axis``); usage errors naming the options."""
    from basisgen.pdo_sampling import diffop_params
    try:
        return diffop_params(kernel_size=kernel_size, **grid, **settings)
    except ValueError as err:
        raise usage_error(err) from None
