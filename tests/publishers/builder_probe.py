"""What a bulk-file builder process had loaded before a test's call: a module that imports
nothing of gongkai, so that unpickling the call in the builder loads nothing else."""

from __future__ import annotations

import sys


def loaded_modules() -> set[str]:
    return set(sys.modules)
