"""Offline metrics (zeta.md §5): pure functions over texts and patches, one module per metric.

* :mod:`delta_chrf` — §5.1 delta chrF (β=0.5/Collapse by default, legacy β=2/Ignore selectable)
* :mod:`exact_lines` — §5.2 changed-lines multiset match
* :mod:`kept_rate` — §5.3 kept rate / recall rate (UTF-8 bytes)
* :mod:`reversal` — §5.4 reversal ratio
* :mod:`misc` — §5.5 braces, wrong editable region, whitespace, token counts, cursor
* :mod:`score` — §5 ``score_prediction(example, prediction)``
* :mod:`report` — §5.6 table and ``SummaryJson``
* :mod:`bootstrap` — seeded bootstrap intervals over examples (eval figures, paired differences)
* :mod:`compare` — ``nextedit compare A B``: paired differences per kind and language, plot
"""
