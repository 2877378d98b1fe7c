"""``basisgen gallery``: one self-contained HTML page of formulas and sampled filters.

Expected values come from the library (pair_latex, sample_basis, latex_to_mathml), not from the command's own
code.  The last test opens the page in headless Chromium and measures that the MathML is laid out natively
(skipped, naming chromium, where no Chromium or Chrome is installed).
"""
import base64
import html
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import basisgen as bg
from basisgen.commands.plot import MISSING_MATPLOTLIB
from basisgen.errors import EmptyBasisError
from basisgen.latex import pair_latex
from basisgen.mathml import MATHML_NAMESPACE, latex_to_mathml
from basisgen.radial import basis_params
from basisgen.sampling import sample_basis
from cli_runner import run

pytest.importorskip("matplotlib", reason="basisgen gallery draws with matplotlib (the `plot` extra)")

FIGURE = re.compile(r'<figure data-ring="(\d+)" data-formula="(\d*)"><img src="([^"]*)"')


def gallery(tmp_path, *args):
    out = tmp_path / "out"
    out.mkdir(exist_ok=True)
    run("gallery", *args, "-o", out / "page.html")
    assert [p.name for p in out.iterdir()] == ["page.html"]
    return (out / "page.html").read_text(encoding="utf-8")


def sections(page):
    return dict(re.findall(r'<section class="pair" id="([^"]+)">(.*?)</section>', page, re.S))


def irrep(psi):
    return bg.Representation.from_irrep(psi)


def assert_self_contained(page):
    urls = re.findall(r"(?:https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}[^\s\"'<>)]*", page)
    assert set(urls) <= {MATHML_NAMESPACE}, urls
    lowered = page.lower()
    for needle in ("<script", "<link", "@import", "url(", "<iframe", "<object", "<embed", "srcset"):
        assert needle not in lowered, needle
    sources = re.findall(r'\ssrc="([^"]*)"', page)
    assert sources and all(s.startswith("data:image/png;base64,") for s in sources)
    for s in sources:
        assert base64.b64decode(s.split(",", 1)[1]).startswith(b"\x89PNG\r\n\x1a\n")


# ---- one pair ------------------------------------------------------------------------------------------
def test_one_pair_page_is_self_contained_with_every_formula(cache_dir, tmp_path):
    G = bg.dihedral_group(4)
    psi_in, psi_out = G.irrep(1, 1), G.irrep(1, 1)
    page = gallery(tmp_path, "D4", "--in", "1,1", "--out", "1,1", "-F", 3, "-k", 5)
    assert_self_contained(page)
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    (section,) = sections(page).values()
    formulas = pair_latex(G, psi_in, psi_out, 3, symbolic=False)
    assert len(formulas) >= 2
    assert len(re.findall(r'<math [^>]*display="block"', section)) == len(formulas)
    for tex in formulas:
        assert latex_to_mathml(tex) in section, tex
    basis = sample_basis(irrep(psi_in), irrep(psi_out), 5)
    figures = FIGURE.findall(section)
    assert [int(r) for r, _, _ in figures] == [a["ring"] for a in basis.attributes]


def test_pictures_name_the_formula_they_sample(cache_dir, tmp_path):
    """By default the formulas use the sampled basis's band limit, so that picture b samples A_(inner_idx + 1)."""
    G = bg.cyclic_group(8)
    page = gallery(tmp_path, "C8", "--in", 1, "--out", 1, "-k", 7)
    basis = sample_basis(irrep(G.irrep(1)), irrep(G.irrep(1)), 7)
    F = basis_params(7).maximum_frequency
    (section,) = sections(page).values()
    figures = FIGURE.findall(section)
    assert [int(j) for _, j, _ in figures] == [a["inner_idx"] + 1 for a in basis.attributes]
    assert len(re.findall(r'<math [^>]*display="block"', section)) == len(pair_latex(G, 1, 1, F, symbolic=False))


def test_pictures_beyond_a_smaller_band_limit_say_so(cache_dir, tmp_path):
    G = bg.cyclic_group(8)
    page = gallery(tmp_path, "C8", "--in", 1, "--out", 1, "-k", 7, "-F", 0)
    basis = sample_basis(irrep(G.irrep(1)), irrep(G.irrep(1)), 7)
    figures = FIGURE.findall(sections(page)["pair-1-to-1"])
    assert len(figures) == len(basis) and any(a["mu"] != 0 for a in basis.attributes)
    assert [j != "" for _, j, _ in figures] == [a["mu"] == 0 for a in basis.attributes]
    assert "(|\u03bc| &gt; F)" in page


# ---- a whole group -------------------------------------------------------------------------------------
def test_whole_group_has_a_section_per_pair(cache_dir, tmp_path):
    G = bg.dihedral_group(4)
    page = gallery(tmp_path, "D4", "-k", 5)
    assert_self_contained(page)
    found = sections(page)
    assert len(found) == len(G.irreps) ** 2
    F = basis_params(5).maximum_frequency
    empty_kernels = pictureless = 0
    for psi_in in G.irreps:
        for psi_out in G.irreps:
            text = found["pair-" + "_".join(map(str, psi_in.id)) + "-to-" + "_".join(map(str, psi_out.id))]
            formulas = pair_latex(G, psi_in, psi_out, F, symbolic=False)
            assert ("Only the zero kernel" in text) == (not formulas)
            assert all(latex_to_mathml(f) in text for f in formulas)
            try:
                count = len(sample_basis(irrep(psi_in), irrep(psi_out), 5))
            except EmptyBasisError:
                count = 0
            assert len(FIGURE.findall(text)) == count
            assert ("No picture at kernel size 5" in text) == (count == 0)
            empty_kernels += not formulas
            pictureless += count == 0
    assert 0 < empty_kernels and 0 < pictureless < len(found)


def test_continuous_group_lists_irreps_up_to_L(cache_dir, tmp_path):
    page = gallery(tmp_path, "SO2", "-L", 2, "-k", 3)
    assert len(sections(page)) == 9 and "basisgen gallery SO2 -L 2 -k 3" in page


# ---- errors ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("args, fragment", [
    (["D4", "--in", "1,1"], "--out"), (["D4", "--in", "7", "--out", "0,0"], "--in"), (["X9"], "GROUP"),
    (["C4", "-k", "0"], "kernel-size"),
])
def test_usage_errors_exit_2(cache_dir, tmp_path, args, fragment):
    result = run("gallery", *args, "-o", tmp_path / "x.html", code=2)
    assert fragment in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.html").exists()


def test_without_matplotlib_says_how_to_install(cache_dir, monkeypatch, tmp_path):
    for name in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)      # import matplotlib now raises ImportError
    result = run("gallery", "C4", "--in", 1, "--out", 1, "-o", tmp_path / "x.html", code=1)
    assert MISSING_MATPLOTLIB in result.stderr
    assert not (tmp_path / "x.html").exists()


def test_help_has_an_example():
    out = run("gallery", "--help").output
    assert "Examples:" in out and "basisgen gallery D4" in out


# ---- rendered in a browser -----------------------------------------------------------------------------
CHROMIUMS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")

#: measures the page's layout and writes the results into the DOM (appended to a copy of the page only)
MEASURE = """<script>
(function () {
  const box = (e) => e.getBoundingClientRect();
  const out = {native: typeof MathMLElement !== "undefined"
                       && document.querySelector("math") instanceof MathMLElement,
               maths: 0, emptyMaths: 0, fracs: 0, badFracs: 0, tables: 0, badRows: 0, badColumns: 0,
               scripts: 0, badScripts: 0, images: 0, badImages: 0};
  for (const m of document.querySelectorAll("math")) {
    out.maths++;
    if (!(box(m).width > 0 && box(m).height > 0)) out.emptyMaths++;
  }
  for (const f of document.querySelectorAll("mfrac")) {
    out.fracs++;
    if (!(box(f.children[0]).bottom <= box(f.children[1]).top + 0.5)) out.badFracs++;
  }
  for (const t of document.querySelectorAll("mtable")) {
    out.tables++;
    const rows = Array.from(t.children);
    for (let i = 1; i < rows.length; i++)
      if (!(box(rows[i]).top >= box(rows[i - 1]).bottom - 0.5)) { out.badRows++; break; }
    for (const row of rows) {
      const cells = Array.from(row.children);
      for (let i = 1; i < cells.length; i++)
        if (!(box(cells[i]).left >= box(cells[i - 1]).right - 0.5)) { out.badColumns++; break; }
    }
  }
  for (const s of document.querySelectorAll("msub")) {
    out.scripts++;
    if (!(box(s.children[1]).bottom > box(s.children[0]).bottom + 0.5)) out.badScripts++;
  }
  for (const img of document.images) {
    out.images++;
    if (!(img.complete && img.naturalWidth > 0)) out.badImages++;
  }
  const pre = document.createElement("pre");
  pre.id = "mathml-check";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>"""


def chromium():
    return next((path for path in map(shutil.which, CHROMIUMS) if path), None)


def headless(browser, user_data, *args):
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={user_data}", *args]


@pytest.mark.slow     # headless Chromium: the full suite
def test_formulas_render_as_mathml_in_chromium(cache_dir, tmp_path):
    browser = chromium()
    if browser is None:
        pytest.skip("no chromium (nor chromium-browser, google-chrome) on PATH: cannot check the rendering")
    page = gallery(tmp_path, "D4", "--in", "1,1", "--out", "1,1", "-k", 5)
    probe = tmp_path / "probe.html"
    probe.write_text(page.replace("</body>", MEASURE + "</body>"), encoding="utf-8")
    done = subprocess.run(headless(browser, tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom",
                                   probe.as_uri()), capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="mathml-check">(.*?)</pre>', done.stdout, re.S)
    assert found, (done.returncode, done.stderr[-2000:])
    result = json.loads(html.unescape(found.group(1)))
    assert result["native"], "MathML elements are not MathMLElements: no native MathML"
    assert result["maths"] == page.count("<math ") and result["emptyMaths"] == 0, result
    assert result["fracs"] >= 1 and result["badFracs"] == 0, result
    assert result["tables"] >= 2 and result["badRows"] == 0 and result["badColumns"] == 0, result
    assert result["scripts"] >= 1 and result["badScripts"] == 0, result
    assert result["images"] == page.count("<img ") > 0 and result["badImages"] == 0, result


def test_the_measuring_script_is_not_in_the_real_page(cache_dir, tmp_path):
    page = gallery(tmp_path, "C4", "--in", 1, "--out", 1, "-k", 3)
    assert "mathml-check" not in page and "<script" not in page
    assert Path(tmp_path / "out" / "page.html").stat().st_size < 200_000
