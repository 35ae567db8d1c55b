"""DEAL, dynamic ensemble active learning (papers.md §10): criteria (``criteria``), the REXP4 bandit
(``rexp4``), rewards (``rewards``), the device-side label queue (``queue``), the pool-based benchmark loop
(``loop``), its report (``report``) and the choice of REXP4's defaults on validation seeds (``tune``).
"""
