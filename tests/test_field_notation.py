"""FieldType.parse and FieldType.notation: the string notation of field types round-trips."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2layers import gspaces, nn


def _catalogue(gs):
    """Representations of ``gs``'s fibre group reachable through the notation, built by the gspace API."""
    G = gs.fibergroup
    reprs = list(G.irreps.values())
    if G.order() > 0:
        reprs.append(gs.regular_repr)
    if G.name == "C8":
        reprs += [gs.quotient_repr(2), gs.quotient_repr(4), gs.induced_repr(4, G.subgroup(4)[0].irrep(1))]
    if G.name == "D4":
        H = G.subgroup((None, 4))[0]
        reprs += [gs.quotient_repr((None, 2)), gs.quotient_repr((0, 1)), gs.induced_repr((None, 4), H.irrep(1))]
    return reprs


GSPACES = [gspaces.Rot2dOnR2(8), gspaces.FlipRot2dOnR2(4), gspaces.Rot2dOnR2(-1, maximum_frequency=3),
           gspaces.FlipRot2dOnR2(-1, maximum_frequency=3), gspaces.Flip2dOnR2(), gspaces.TrivialOnR2()]


@pytest.mark.parametrize("gs", GSPACES, ids=lambda g: g.name)
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_round_trip(gs, data):
    catalogue = _catalogue(gs)
    reprs = data.draw(st.lists(st.sampled_from(catalogue), min_size=1, max_size=12))
    t = nn.FieldType(gs, reprs)
    assert nn.FieldType.parse(gs, t.notation) == t
    assert nn.FieldType.parse(gs, repr(t)) == t


def test_tokens_and_multiplicities():
    r2 = gspaces.Rot2dOnR2(8)
    t = nn.FieldType.parse(r2, "3x trivial + 10x regular + 2x irrep(1)")
    assert t.representations == 3 * [r2.trivial_repr] + 10 * [r2.regular_repr] + 2 * [r2.irrep(1)]
    assert t.notation == "3x trivial + 10x regular + 2x irrep(1)"
    assert nn.FieldType.parse(r2, " 2 x reg+irrep_3 + 2*quot(4) ").representations == (
        2 * [r2.regular_repr] + [r2.irrep(3)] + 2 * [r2.quotient_repr(4)])
    d4 = gspaces.FlipRot2dOnR2(4)
    t = nn.FieldType.parse(d4, "irrep(1, 1) + irrep_1,0 + quotient((None, 2)) + induced((None, 4), irrep(1))")
    H = d4.fibergroup.subgroup((None, 4))[0]
    assert t.representations == [d4.irrep(1, 1), d4.irrep(1, 0), d4.quotient_repr((None, 2)),
                                 d4.induced_repr((None, 4), H.irrep(1))]
    assert t.notation == ("irrep(1, 1) + irrep(1, 0) + quotient((None, 2)) + induced[(None, 4)][irrep_1]")
    o2 = gspaces.FlipRot2dOnR2(-1, maximum_frequency=2)
    assert nn.FieldType.parse(o2, "trivial + 2x irrep(1, 2)").size == 5


def test_e2cnn_repr_of_another_gspace_is_refused():
    t = nn.FieldType(gspaces.Rot2dOnR2(8), [gspaces.Rot2dOnR2(8).regular_repr])
    with pytest.raises(ValueError, match="8-Rotations"):
        nn.FieldType.parse(gspaces.Rot2dOnR2(4), repr(t))


@pytest.mark.parametrize("text,match", [
    ("", "empty term"),
    ("2x regular +", "empty term"),
    ("0x regular", "at least 1"),
    ("banana", "unknown representation 'banana'"),
    ("irrep(9)", "irrep"),
    ("quotient(3x)", "subgroup id"),
    ("__import__('os').system('true')", "unknown representation"),
    ("induced(4)", "subgroup id and an irrep"),
    ("induced(4, irrep(7))", "no irrep with id"),
    ("induced(4, irrep_7)", "not an irrep of the subgroup"),
])
def test_bad_text_raises_naming_it(text, match):
    with pytest.raises(ValueError, match=match):
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), text)


def test_non_string_is_a_type_error():
    with pytest.raises(TypeError, match="text must be a str"):
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), 3)
