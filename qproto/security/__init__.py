"""Security maths: entropies, key rates, bounds."""
from qproto.security._entropy import binary_entropy

__all__ = ["binary_entropy"]
