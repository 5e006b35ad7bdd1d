"""Disclosure rules, release selection, rendering and sync to the object store."""
