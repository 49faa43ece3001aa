"""A fitted mixture: what it answers (FittedMixture), and saving and loading it as a dict."""
