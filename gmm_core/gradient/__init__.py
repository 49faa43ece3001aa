"""Gradient training: GradientGaussianMixture (Adam) and the torch module it trains."""
