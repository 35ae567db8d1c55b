"""Dataset condensation for sharing (papers.md §9): distribution matching (``dm``) and gradient matching
(``gm``), evaluation of fresh models on real held-out records (``evaluate``), a privacy report (``privacy``),
the one-file format a phone receives (``store``), the pipeline (``pipeline``) and the CLI (``__main__``).
"""
