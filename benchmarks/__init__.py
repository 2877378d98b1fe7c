"""Benchmarks of e2layers next to ``torch.nn.Conv2d`` and e2cnn: ``python -m benchmarks --help``.

The suite (``__main__``) times, side by side and interleaved, layer and model construction, training
steps, eval forwards, the filter expansion, and the memory held; ``bench_*.py`` are single-purpose
scripts (basis derivation, cache reads, layer construction, compile/autocast/channels_last).
Figures and the commands that produced them: ``benchmarks/RESULTS.md``.
"""
