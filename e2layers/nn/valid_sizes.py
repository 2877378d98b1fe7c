"""The input sizes at which a network is exactly equivariant, from its layers' geometry alone.

Along each axis a layer is exact at input length ``n`` when the pixels it samples are symmetric about the
centre of its input (``_grid_geometry``); its output length follows from ``n`` the same way.  One recorded
forward pass (``_exactness_trace``) says which layer feeds which; from there every layer's input length is a
function of the network's input length ``N``, and the network is exact at ``N`` when every layer it passes
through is exact there.  Nothing is run again: :class:`SizeRule` lists these ``N`` up to a bound, in words
("H, W = 4k + 1: 1, 5, 9, ...") and as the nearest exact sizes to a given one, with the padding that reaches
them.  ``exactness.sizes_by_brute_force`` is what it is checked against (tests, ``basisgen check --verify``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from basisgen.checks import is_int
from basisgen.errors import InvalidValueError

from ._grid_motions import GridMotion

__all__ = ["SizeRule"]

#: the largest bound a size rule is computed up to
MAX_SIZE_BOUND = 4096


def _periodic(valid: Sequence[bool]) -> Optional[Tuple[int, int]]:
    """``(period, start)``: the smallest period (seen at least twice before ``len(valid)``) with which the
    flags ``valid[1:]`` repeat from ``start`` on, with some size valid from there; None if none shows."""
    bound = len(valid) - 1
    for period in range(1, bound // 3 + 1):
        start = 1
        for n in range(bound - period, 0, -1):
            if valid[n] != valid[n + period]:
                start = n + 1
                break
        if start + 2 * period <= bound + 1 and any(valid[start:]):
            return period, start
    return None


def _formula(valid: Sequence[bool], axis_name: str) -> str:
    """The flags ``valid[1:]`` in words: ``"H = 4k + 1: 1, 5, 9, 13, ..."``."""
    sizes = [n for n in range(1, len(valid)) if valid[n]]
    if not sizes:
        return f"no {axis_name} up to {len(valid) - 1}"
    pattern = _periodic(valid)
    if pattern is None:
        return f"{axis_name} = " + ", ".join(map(str, sizes)) + " (no other up to " + f"{len(valid) - 1})"
    period, start = pattern
    residues = sorted({n % period for n in range(start, len(valid)) if valid[n]})
    if period == 1:
        words = f"{axis_name} >= {min(n for n in range(start, len(valid)) if valid[n])}"
    else:
        words = f"{axis_name} = " + " or ".join(f"{period}k + {r}" if r else f"{period}k" for r in residues)
    irregular = [n for n in sizes if n < start]
    shown = ", ".join(map(str, sizes[:6])) + (", ..." if len(sizes) > 6 else "")
    extra = f" (below {start}: " + ", ".join(map(str, irregular)) + ")" if irregular else ""
    return f"{words}: {shown}{extra}"


@dataclass(frozen=True)
class SizeRule:
    """The input lengths, up to ``bound``, along height and width at which the network is exact for every
    motion checked; ``reason`` says why no rule could be derived (and the lists are then empty).

    Examples
    --------
    >>> rule = SizeRule(20, (1, 5, 9, 13, 17), (1, 5, 9, 13, 17))
    >>> rule.describe()
    'H, W = 4k + 1: 1, 5, 9, 13, 17'
    >>> rule.nearest(7)
    [(5, 'crop 1 pixel on each side'), (9, 'pad 1 pixel on each side')]
    """

    bound: int
    height: Tuple[int, ...]
    width: Tuple[int, ...]
    reason: Optional[str] = None
    notes: Tuple[str, ...] = field(default_factory=tuple)

    @property
    def derived(self) -> bool:
        return self.reason is None

    def exact(self, height: int, width: int) -> Optional[bool]:
        """Is an input of ``height`` x ``width`` exact (None: beyond the bound, or no rule)?"""
        if not self.derived or max(height, width) > self.bound:
            return None
        return height in self.height and width in self.width

    def describe(self) -> str:
        """The rule in words."""
        if not self.derived:
            return f"not derived: {self.reason}"
        flags = [[n in sizes for n in range(self.bound + 1)] for sizes in (self.height, self.width)]
        if self.height == self.width:
            return _formula(flags[0], "H, W")
        return _formula(flags[0], "H") + "; " + _formula(flags[1], "W")

    def nearest(self, n: int, axis: int = 0) -> List[Tuple[int, str]]:
        """The exact lengths nearest to ``n`` along ``axis`` (one below, one above, within the bound), each with
        the padding or cropping that reaches it; an odd difference moves the centre by half a pixel."""
        sizes = self.height if axis == 0 else self.width
        below = [m for m in sizes if m <= n]
        above = [m for m in sizes if m >= n]
        picks = sorted({*(below[-1:]), *(above[:1])})
        return [(m, _how(n, m)) for m in picks]


def _how(n: int, m: int) -> str:
    if m == n:
        return "exact as it is"
    verb, d = ("pad", m - n) if m > n else ("crop", n - m)
    if d % 2 == 0:
        return f"{verb} {d // 2} pixel{'s' * (d // 2 != 1)} on each side"
    before = f"{d // 2} pixel{'s' * (d // 2 != 1)} before and " if d > 1 else ""
    return f"{verb} {before}{d // 2 + 1} after (the centre moves by half a pixel)"


# ---- the rule from a recorded pass ------------------------------------------------------------------------
@dataclass
class LayerSizes:
    """What the rule needs of one recorded call: its geometry (None: keeps the size), the call feeding its
    feature-map input (-1: the model's input), the motions it must be exact for (those its group has), and
    the motions it breaks at every size (``intrinsic``)."""

    name: str
    geometry: Any
    producer: Optional[int]
    spatial: bool
    motions: Tuple[GridMotion, ...]
    intrinsic: Tuple[GridMotion, ...] = ()


def derive_rule(layers: Sequence[LayerSizes], motions: Sequence[GridMotion], bound: int) -> SizeRule:
    """The :class:`SizeRule` of a network whose recorded calls are ``layers`` (in execution order)."""
    if not is_int(bound) or not 1 <= bound <= MAX_SIZE_BOUND:
        raise InvalidValueError(f"size_bound must be an int in [1, {MAX_SIZE_BOUND}], got {bound!r}")
    broken = [m.name for m in motions if any(m in layer.intrinsic for layer in layers)]
    if broken:
        names = list(dict.fromkeys(layer.name for layer in layers if set(layer.intrinsic) & set(motions)))
        return SizeRule(bound, (), (), notes=(f"no size is exact under {', '.join(broken)}: "
                                              f"{', '.join(names[:3])}{' and more' * (len(names) > 3)} "
                                              f"{'is' if len(names) == 1 else 'are'} "
                                              f"not equivariant at any size",))
    for layer in layers:
        if layer.spatial and layer.producer is None:
            return SizeRule(bound, (), (), reason=f"the input of {layer.name} comes from code in the model's "
                                                  f"forward that changes its size; the analyzer cannot follow it")
    for swap in (m for m in motions if m.swaps_axes):
        for layer in layers:
            if swap in layer.motions and layer.geometry is not None and not layer.geometry.square:
                return SizeRule(bound, (), (), notes=(f"no size is exact under {swap.name}: "
                                                      f"{layer.geometry.square_cause()}",))
    valid = []
    for axis in (0, 1):
        needs = [m for m in motions if axis in m.axes]
        valid.append(tuple(n for n in range(1, bound + 1) if _exact_along(layers, axis, n, needs)))
    return SizeRule(bound, valid[0], valid[1])


def _exact_along(layers: Sequence[LayerSizes], axis: int, n: int, needs: Sequence[GridMotion]) -> bool:
    """Does the network run at input length ``n`` along ``axis``, with every layer that must be exact for
    one of ``needs`` symmetric there?"""
    out: Dict[int, Optional[int]] = {-1: n}
    for index, layer in enumerate(layers):
        if not layer.spatial:
            out[index] = None
            continue
        n_in = out.get(layer.producer)
        if n_in is None:
            return False
        geometry = layer.geometry
        if geometry is None:
            out[index] = n_in
            continue
        n_out = geometry.out_size(n_in, axis)
        if n_out is None:
            return False
        if any(m in layer.motions for m in needs) and not geometry.exact(n_in, axis):
            return False
        out[index] = n_out
    return True
