"""The repository stands on its own: it cites only documents it contains.

The mathematics and e2cnn's conventions are written out in ``docs/`` (``docs/math.md``,
``docs/migrating.md``); code and docs point there as ``docs/<file>.md, "<section title>"``.
"""
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: documents of the maintainers' notes that are not part of the repository (spelled so that this
#: file does not mention them itself)
OUTSIDE = [name.encode() + b".md" for name in ("MATH", "API", "STYLE")]
#: what is not the repository: build outputs, caches, virtual environments
SKIP_DIRS = {".git", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache", ".venv", "venv"}
#: a citation of a section of our own docs, e.g. ``docs/math.md, "Sampling and normalisation"``
CITATION = re.compile(r'docs/([\w-]+\.md), "([^"]+)"')


def _repository_files() -> list:
    try:
        listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
                                cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        paths = [p for p in ROOT.rglob("*") if p.is_file() and not SKIP_DIRS.intersection(p.relative_to(ROOT).parts)
                 and not any(part.endswith(".egg-info") for part in p.relative_to(ROOT).parts)]
    else:
        paths = [ROOT / name for name in listed.decode().split("\0") if name]
    return [p for p in paths if p.is_file()]


def _text_files(suffixes=(".py", ".md", ".toml", ".txt", ".cfg", ".ini", ".yml", ".yaml", ".json")) -> list:
    return [p for p in _repository_files() if p.suffix in suffixes or p.name in ("run", "Makefile")]


def test_no_file_cites_documents_outside_the_repository():
    files = _repository_files()
    assert any(p.name == "math.md" for p in files) and any(p.suffix == ".py" for p in files)
    offenders = [f"{p.relative_to(ROOT)}: {name.decode()}" for p in files
                 for name in OUTSIDE if name in p.read_bytes()]
    assert offenders == [], "cite a section of docs/ instead:\n" + "\n".join(offenders)


def _headings(doc: Path) -> set:
    return {line.lstrip("#").strip() for line in doc.read_text().splitlines() if line.startswith("#")}


def test_every_citation_of_our_docs_names_an_existing_section():
    missing = []
    for p in _text_files():
        # a citation may wrap over two lines of a comment or docstring
        text = re.sub(r"\s*\n\s*(#\s*)?", " ", p.read_text(errors="replace"))
        for doc, title in CITATION.findall(text):
            target = ROOT / "docs" / doc
            if not target.is_file() or title not in _headings(target):
                missing.append(f"{p.relative_to(ROOT)}: docs/{doc}, \"{title}\"")
    assert missing == [], "cited sections that do not exist:\n" + "\n".join(missing)
