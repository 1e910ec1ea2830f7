"""Training jobs: start, tune, follow, stop, price and promote a stage's models."""
