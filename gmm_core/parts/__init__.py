"""Parts the estimators are built from: the torch covariance table, k-means, Cancelled, a cache."""
