"""The ``basisgen`` command's subcommand bodies and helpers (installed as ``basisgen.commands``).

``tasks`` (group and representation specs, precompute tasks and worker processes, text tables),
``cache`` (the ``cache`` subcommands), ``diffop`` (the ``--diffop`` options of PDO bases), ``latex`` (the
texts of ``basisgen latex``: pairs, layer kernels, tables, PDOs, standalone documents), ``demo`` (the demo
network; torch, imported by ``demo`` only), ``plot`` (matplotlib, imported by ``plot`` only) and ``gallery``
(the self-contained HTML page of formulas and filters).  The entry
point is ``cli.py`` (``basisgen.cli``).
"""
