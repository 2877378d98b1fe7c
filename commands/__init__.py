"""The ``basisgen`` command's subcommand bodies and helpers (installed as ``basisgen.commands``).

``tasks`` (group and representation specs, precompute tasks and worker processes, text tables),
``cache`` (the ``cache`` subcommands), ``diffop`` (the ``--diffop`` options of PDO bases), ``latex``
(standalone LaTeX documents, ``latex --diffop``), ``demo`` (the demo
network; torch, imported by ``demo`` only) and ``plot`` (matplotlib, imported by ``plot`` only).  The entry
point is ``cli.py`` (``basisgen.cli``).
"""
