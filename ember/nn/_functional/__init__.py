"""Families of ``nn.functional``; see ``ember/nn/functional.py``."""
