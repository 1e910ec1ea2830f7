"""Evaluation: collect a model's predictions on the validation set, then metrics and the report."""
