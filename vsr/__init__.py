"""vsr: a unified video super-resolution framework.

Importing the package loads nothing heavy; registries import their modules on first lookup.
"""

__version__ = "0.1.0"
