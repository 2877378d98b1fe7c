"""FieldType.parse and FieldType.notation: the string notation of field types round-trips."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from e2layers import gspaces, nn
from spaces import gspace_table


def _catalogue(gs):
    """Representations of ``gs``'s fibre group reachable through the notation, built by the gspace API."""
    G = gs.fibergroup
    # SO(2)/O(2) register irreps as they are asked for (parsing "irrep(9)" adds one): a fixed band, so that
    # hypothesis draws from the same catalogue in every run
    reprs = [G.irrep(*i) for i in G.bl_irreps(3)] if G.continuous else list(G.irreps.values())
    if G.order() > 0:
        reprs.append(gs.regular_repr)
    if G.name == "C8":
        reprs += [gs.quotient_repr(2), gs.quotient_repr(4), gs.induced_repr(4, G.subgroup(4)[0].irrep(1))]
    if G.name == "D4":
        H = G.subgroup((None, 4))[0]
        reprs += [gs.quotient_repr((None, 2)), gs.quotient_repr((0, 1)), gs.induced_repr((None, 4), H.irrep(1))]
    return reprs


GSPACES = [factory() for factory in gspace_table("C8", "D4", "SO2", "O2", "Flip", "C1").values()]
# the property sweeps: C8, D4, O(2) and the flips in the quick subset, SO(2) and C1 (their subcases) in the full suite
SWEPT = [pytest.param(gs, marks=pytest.mark.slow) if gs.fibergroup.name in ("SO(2)", "C1") else gs for gs in GSPACES]


@pytest.mark.parametrize("gs", SWEPT, ids=lambda g: g.name)
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


# ---- hostile and random text: a FieldType or a clean ValueError, in bounded time ----------------------
import time  # noqa: E402

from basisgen import limits  # noqa: E402
from basisgen.errors import InvalidValueError  # noqa: E402

ALPHABET = list("0123456789x*+(),[]{}:_- \t") + ["trivial", "regular", "reg", "irrep", "quotient", "quot", "induced",
                                                 "None", "irrep_1", "irrep_1,1", "irrep_0,0", "8-Rotations",
                                                 "Flips", "Trivial", "[8-Rotations: {", "}]", "((None, 2)"]


def _spellings(gs, rho):
    """Ways of writing ``rho`` in the notation, known independently of the parser."""
    names = [rho.name]
    if rho == gs.trivial_repr:
        names.append("trivial")
    if rho.name == "regular":
        names.append("reg")
    if rho.name in gs.fibergroup.irreps:
        ids = rho.irrep.id
        names += ["irrep(" + ", ".join(map(str, ids)) + ")", "irrep(" + ",".join(map(str, ids)) + " )"]
    if rho.name.startswith("quotient["):
        names += [f"quotient({rho.name[9:-1]})", f"quot({rho.name[9:-1]})"]
    return names


def _outcome_is_clean(gs, text):
    """Parse ``text``: a FieldType that reads back from its own notation, or a ValueError with a bounded message."""
    t0 = time.perf_counter()
    try:
        t = nn.FieldType.parse(gs, text)
    except ValueError as err:
        assert isinstance(err, InvalidValueError), (text, type(err))
        assert len(str(err)) < 1000, (text, str(err)[:200])
        t = None
    assert time.perf_counter() - t0 < 1.0, text
    # a few parsed fields may write out longer than the length limit ("9999x trivial" in e2cnn's repr)
    for written in ([] if t is None else [t.notation, repr(t)]):
        if len(written) <= limits.MAX_NOTATION_LENGTH:
            assert nn.FieldType.parse(gs, written) == t


@pytest.mark.parametrize("gs", SWEPT, ids=lambda g: g.name)
@settings(max_examples=60, deadline=2000)
@given(data=st.data())
def test_generated_notations_mean_what_they_say(gs, data):
    catalogue = _catalogue(gs)
    terms = data.draw(st.lists(st.tuples(st.integers(1, 4), st.sampled_from(catalogue)), min_size=1, max_size=6))
    written = []
    for count, rho in terms:
        name = data.draw(st.sampled_from(_spellings(gs, rho)))
        prefix = data.draw(st.sampled_from(["", f"{count}x ", f"{count} x ", f"{count}*", f" {count}x"]))
        if not prefix and count > 1:
            prefix = f"{count}x"
        written.append(prefix + name)
    separator = data.draw(st.sampled_from(["+", " + ", "  +\t"]))
    text = separator.join(written)
    expected = [rho for count, rho in terms for _ in range(count)]
    assert nn.FieldType.parse(gs, text) == nn.FieldType(gs, expected), text


@pytest.mark.parametrize("gs", SWEPT, ids=lambda g: g.name)
@settings(max_examples=150, deadline=2000)
@given(pieces=st.lists(st.sampled_from(ALPHABET), max_size=30))
def test_random_text_parses_or_is_refused_cleanly(gs, pieces):
    _outcome_is_clean(gs, "".join(pieces))


@pytest.mark.parametrize("gs", SWEPT, ids=lambda g: g.name)
@settings(max_examples=100, deadline=2000)
@given(data=st.data())
def test_mutated_notations_parse_or_are_refused_cleanly(gs, data):
    reprs = data.draw(st.lists(st.sampled_from(_catalogue(gs)), min_size=1, max_size=5))
    t = nn.FieldType(gs, reprs)
    text = data.draw(st.sampled_from([t.notation, repr(t)]))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(text)))
        j = data.draw(st.integers(i, min(len(text), i + 8)))
        action = data.draw(st.sampled_from(["insert", "delete", "replace", "repeat"]))
        piece = data.draw(st.sampled_from(ALPHABET))
        text = {"insert": text[:i] + piece + text[i:], "delete": text[:i] + text[j:],
                "replace": text[:i] + piece + text[j:], "repeat": text[:j] + text[i:j] * 3 + text[j:]}[action]
    _outcome_is_clean(gs, text)


ADVERSARIAL = {   # each about n characters
    "colon-braces": lambda n: "[" + ":{" * (n // 2),
    "induced-brackets": lambda n: "induced[" + "][" * (n // 2),
    "nested-parentheses": lambda n: "quotient(" + "(" * (n // 2) + "1" + ")" * (n // 2),
    "flat-parentheses": lambda n: "irrep(" + "(), " * (n // 4) + ")",
    "many-ids": lambda n: "irrep(" + "1," * (n // 2) + "1)",
    "many-terms": lambda n: "+".join(["trivial"] * (n // 8)),
    "e2cnn-form": lambda n: "[8-Rotations: {" + ", ".join(["irrep_1"] * (n // 9)) + "}]",
    "digits": lambda n: "1" * n + "x trivial",
    "spaces": lambda n: "3" + " " * n + "x",
    "word": lambda n: "a" * n,
    "unbalanced": lambda n: ")" * (n // 2) + "(" * (n // 2),
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_a_megabyte_of_hostile_text_is_refused_at_once(name):
    text = ADVERSARIAL[name](2 ** 20)
    t0 = time.perf_counter()
    with pytest.raises(limits.LimitExceededError, match="MAX_NOTATION_LENGTH") as err:
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), text)
    assert time.perf_counter() - t0 < 0.1
    assert len(str(err.value)) < 400      # an excerpt, not the megabyte


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_parsing_is_linear_up_to_the_length_limit(name):
    """At the longest length accepted, every hostile shape is parsed or refused in well under a second (the
    quadratic regular expressions took a minute at 1 MB, about half a second at this length)."""
    text = ADVERSARIAL[name](limits.MAX_NOTATION_LENGTH - 20)
    assert len(text) <= limits.MAX_NOTATION_LENGTH
    t0 = time.perf_counter()
    try:
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), text)
    except ValueError as err:
        assert isinstance(err, InvalidValueError) and len(str(err)) < 1000, str(err)[:300]
    assert time.perf_counter() - t0 < 0.3, name


def test_deep_nesting_is_refused_naming_the_limit_not_a_recursion_error():
    for text in ("quotient(" + "(" * 5000 + "1" + ")" * 5001, "induced(" + "(" * 40 + "4" + ")" * 40 + ", irrep(1))"):
        with pytest.raises(limits.LimitExceededError, match="MAX_NOTATION_DEPTH"):
            nn.FieldType.parse(gspaces.Rot2dOnR2(8), text)
    depth_ok = "quotient(" + "(" * 10 + "2" + ",)" * 10 + ")"       # nested one-tuples: a clean refusal
    with pytest.raises(InvalidValueError, match="subgroup id"):
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), depth_ok)


def test_the_number_of_fields_is_bounded(monkeypatch):
    t0 = time.perf_counter()
    with pytest.raises(limits.LimitExceededError, match="100000000 fields.*MAX_FIELDS = 100000.*BASISGEN_MAX_FIELDS"):
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), "100000000x trivial")
    with pytest.raises(limits.LimitExceededError, match="MAX_FIELDS"):
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), "9" * 500 + "x trivial")
    assert time.perf_counter() - t0 < 0.1
    monkeypatch.setattr(limits, "MAX_FIELDS", 5)
    assert nn.FieldType.parse(gspaces.Rot2dOnR2(8), "2x trivial + 3x irrep(1)").size == 8
    with pytest.raises(limits.LimitExceededError, match="6 fields"):
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), "2x trivial + 4x irrep(1)")


def test_wrong_number_of_irrep_ids_is_a_value_error():
    with pytest.raises(InvalidValueError, match="have 2 ids, got 1"):
        nn.FieldType.parse(gspaces.FlipRot2dOnR2(4), "irrep(1)")
    with pytest.raises(InvalidValueError, match="have 1 id, got 3"):
        nn.FieldType.parse(gspaces.Rot2dOnR2(8), "irrep(1, 2, 3)")
