"""Data far from unit size: DataScaling (shift, power-of-two scale) and ScaledTraining."""
