"""Retention: how long each kind of record is kept, and the pass that removes the rest."""
