"""Evaluation: ``assistant eval``. ``items`` are the questions and their evidence, ``runner`` asks and
scores them (ours and the ``baseline``), ``metrics`` sums up, ``report`` writes; ``squad`` turns a
SQuAD-format dataset (PIAF) into a corpus and items.
"""
