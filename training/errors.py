"""The training CLI's one error type: what went wrong, and what to do about it."""


class TrainingError(Exception):
    """An expected failure (bad input, missing stack, AWS refusal). The CLI prints it and exits 1."""
