"""``basisgen latex`` through click's runner: a pair's values by default, ``--symbolic``, the layer's kernel
(``--kernel`` with the layer's options), tables by kind of pair, and standalone documents whose every symbol is in
their legend and which pdflatex compiles (where it is installed).

Expected texts come from the library called directly (``pair_latex``, ``table_lines``, ``group_table_latex``,
``basisgen.layer_latex.kernel_latex`` with ``basis_params``).
"""
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import basisgen as bg
from basisgen.latex import table_lines
from basisgen.layer_latex import kernel_latex
from basisgen.radial import basis_params
from cli_runner import run


def test_a_named_pair_prints_its_values_and_symbolic_the_closed_form():
    D4 = bg.dihedral_group(4)
    out = run("latex", "D4", "--in", "1,1", "--out", "1,0", "-F", 5).stdout.splitlines()
    assert out == bg.pair_latex(D4, (1, 1), (1, 0), 5) and all("$" not in line for line in out)
    assert r"\sin(3(\phi - \beta))" in out[0] and "m + n" not in out[0]
    symbolic = run("latex", "D4", "--in", "1,1", "--out", "1,0", "-F", 5, "--symbolic").stdout.splitlines()
    assert symbolic == bg.pair_latex(D4, (1, 1), (1, 0), 5, symbolic=True)
    assert run("latex", "SO2", "--in", 1, "--out", 2).stdout.splitlines() == bg.pair_latex(bg.so2_group(3), 1, 2)
    assert run("latex", "O2", "--in", "0,0", "--out", "1,0").stdout.strip() == r"\kappa(r, \phi) = 0"


def test_kernel_states_the_layers_kernel():
    C8 = bg.cyclic_group(8)
    out = run("latex", "C8", "--in", 1, "--out", 3, "--kernel", "-k", 5).stdout
    assert out.rstrip("\n") == kernel_latex(C8, 1, 3, basis_params(5))
    assert run("latex", "C8", "--in", 1, "--out", 3, "--kernel").stdout == out     # -k 5 by default
    shaped = run("latex", "C8", "--in", 1, "--out", 1, "--kernel", "-k", 7, "--rings", "0,1.5,3", "--sigma", 0.5,
                 "--frequencies-cutoff", 1.5, "--symbolic").stdout
    params = basis_params(7, rings=[0, 1.5, 3], sigma=0.5, frequencies_cutoff=1.5)
    assert shaped.rstrip("\n") == kernel_latex(C8, 1, 1, params, symbolic=True)


@pytest.mark.parametrize("args, message", [
    (["--in", 1, "--out", 1, "-k", 5], "-k shapes the layer's kernel: use it with --kernel"),
    (["--in", 1, "--out", 1, "--sigma", 0.5, "--rings", "0,1"], "--rings, --sigma shape the layer's kernel"),
    (["--in", 1, "--out", 1, "--kernel", "-F", 3], "neither --table nor -F"),
    (["--in", 1, "--out", 1, "--kernel", "--rings", "0,x"], "expected comma-separated radii"),
    (["--in", 1, "--out", 1, "--kernel", "--rings", "0,9"], "rings must lie within the 5x5 grid"),
    (["--in", 1, "--out", 1, "--symbolic", "--concrete"], "exclude each other"),
    (["--in", 1, "--out", 1, "--array"], "--array goes with --table"),
])
def test_kernel_options_are_checked(args, message):
    err = run("latex", "C8", *args, code=2).stderr
    assert message in err and "Traceback" not in err, err


def test_tables_are_symbolic_by_kind_and_concrete_per_pair():
    C4 = bg.cyclic_group(4)
    assert run("latex", "C4", "--table").stdout.splitlines() == table_lines(C4)
    assert run("latex", "C4", "--table", "--concrete").stdout.splitlines() == table_lines(C4, symbolic=False)
    assert run("latex", "C4", "--table", "--array").stdout.rstrip("\n") == bg.group_table_latex(C4)
    kinds = run("latex", "C8", "--table").stdout
    assert r"\psi_{n}\ (0 < n < N/2) \to \psi_{m}\ (0 < m < N/2)" in kinds and r"\psi_{3}" not in kinds


# ---- standalone documents: a legend for every symbol, and they compile -----------------------------------
def _symbols_used(displays: str) -> set:
    found = {s for s in (r"\beta", r"\phi", r"\partial_x") if s in displays}
    displays = displays.replace("tN", "t N")
    for letter in ("m", "n", "N", "t", "F"):
        if re.search(rf"(?<![\\A-Za-z]){letter}(?![A-Za-z])", displays):
            found.add(letter)
    found |= {s for s in ("r_{i}", r"\sigma_{i}", "F_{i}", "Z_{") if s in displays}
    return found


def _legend(doc: str) -> str:
    return "".join(re.findall(r"\\item\[\$(.*?)\$\]", doc))


def _compiles(doc: str, tmp_path: Path) -> None:
    if shutil.which("pdflatex") is None:
        return
    (tmp_path / "doc.tex").write_text(doc)
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]
    assert (tmp_path / "doc.pdf").stat().st_size > 1000


DOCUMENTS = [
    ["D4", "--in", "1,1", "--out", "1,0"], ["D4", "--in", "1,1", "--out", "1,0", "--symbolic"],
    ["C8", "--in", "1", "--out", "3", "--kernel", "-k", "5"], ["O2", "--in", "1,1", "--out", "1,2", "--kernel", "--symbolic"],
    ["SO2", "--table", "-L", "2"], ["Flip", "--table", "--concrete"], ["C4", "--in", "0", "--out", "0", "--diffop",
                                                                         "--maximum-order", "4"],
]


@pytest.mark.slow     # pdflatex on seven documents: the full suite
@pytest.mark.parametrize("args", DOCUMENTS, ids=" ".join)
def test_standalone_documents_define_every_symbol_and_compile(args, tmp_path):
    doc = run("latex", *args, "--standalone", "-o", tmp_path / "out.tex").stdout
    doc = (tmp_path / "out.tex").read_text()
    assert doc.startswith("\\documentclass{article}") and doc.rstrip().endswith("\\end{document}")
    assert "Generated by \\texttt{basisgen latex " + " ".join(args[:1]) in doc
    assert "counter-clockwise" in doc and r"$y$ \emph{up}" in doc        # the convention
    displays = "\n".join(re.findall(r"\\\[\n(.*?)\n\\\]", doc, flags=re.S))
    assert displays
    legend = _legend(doc)
    missing = {s for s in _symbols_used(displays) if s.rstrip("{") not in legend and s not in legend}
    if r"\partial_x" in displays:      # the PDO notation is defined in the displays themselves
        missing -= {r"\partial_x"}
    assert not missing, (missing, legend)
    _compiles(doc, tmp_path)


def test_the_legend_check_can_fail():
    assert _symbols_used(r"\cos((m - n + tN)(\phi - \beta))") == {r"\beta", r"\phi", "m", "n", "N", "t"}
    assert _symbols_used(r"\begin{bmatrix} \cos(2\phi) \end{bmatrix}") == {r"\phi"}


def test_pdflatex_is_there_or_the_skip_says_so():
    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed: the standalone documents were checked for their legend only "
                    "(apt-get install texlive-latex-base texlive-latex-recommended to compile them)")
    broken = "\\documentclass{article}\n\\begin{document}\n\\[ \\frac{1 \\]\n\\end{document}\n"
    with pytest.raises(AssertionError):
        _compiles(broken, Path(__import__("tempfile").mkdtemp()))
