"""Variational Bayesian Gaussian mixtures: the estimator, its priors, its maths and its saving."""

from ._estimator import BayesianGaussianMixture

__all__ = ["BayesianGaussianMixture"]
