"""NTN channel physics and the mapping of channels to qiskit-aer noise models."""
