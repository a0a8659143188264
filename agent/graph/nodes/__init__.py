"""One module per graph node; each node function is named after its node."""
