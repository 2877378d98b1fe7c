"""The HDF5 library (h5py, about 0.06 s to import) loads when the cache first reads or writes an entry file,
not when the cache or e2layers is imported; what the first read serves is still checked in full."""
import json
import os
import subprocess
import sys
from pathlib import Path

import h5py

ROOT = Path(__file__).resolve().parents[2]

GET = """
import json, sys
import basisgen
from basisgen import cache
imported = "h5py" in sys.modules
store = cache.BasisCache([sys.argv[1]])
rho = basisgen.cyclic_group(4).regular_representation
basis = store.get(rho, rho, 3)
print(json.dumps(dict(imported=imported, after_get="h5py" in sys.modules, stats=store.stats,
                      blocks=basis.blocks.ravel()[:5].tolist())))
"""


def _fresh(code: str, *args: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT,
                         env=dict(os.environ, BASISGEN_CACHE=str(args[0]) if args else os.devnull), timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_e2layers_loads_no_hdf5(tmp_path):
    code = "import json, sys\nimport basisgen.cache, e2layers\nprint(json.dumps('h5py' in sys.modules))"
    assert _fresh(code, str(tmp_path)) is False


def test_the_first_entry_written_or_read_loads_it(tmp_path):
    written = _fresh(GET, str(tmp_path))
    assert not written["imported"] and written["after_get"] and written["stats"]["written"] == 1
    read = _fresh(GET, str(tmp_path))
    assert not read["imported"] and read["after_get"]
    assert read["stats"]["disk_hits"] == 1 and read["stats"]["computed"] == 0
    assert read["blocks"] == written["blocks"]


def test_a_damaged_entry_is_still_refused_on_the_first_read(tmp_path):
    _fresh(GET, str(tmp_path))
    (entry,) = tmp_path.rglob("*.h5")
    with h5py.File(entry, "r") as f:
        offset = f["blocks"].id.get_offset()
    data = bytearray(entry.read_bytes())
    data[offset] ^= 0xFF            # one byte of the basis: the checksum no longer matches
    entry.write_bytes(bytes(data))
    again = _fresh(GET, str(tmp_path))
    assert again["stats"]["corrupt"] == 1 and again["stats"]["computed"] == 1, again["stats"]
