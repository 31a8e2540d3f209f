"""Operations on a whole installation: one backup archive of the database, the uploaded files and a
manifest (``backup``), checked and put back into an empty database (``restore``); the PostgreSQL
client programs they run (``pgtools``) and the archive format they share (``archive``).

May import: ``core``, ``models``, ``audit`` (``tests/core/test_layers.py`` holds the rule).
"""
