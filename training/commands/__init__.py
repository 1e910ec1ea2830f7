"""One module per ``python -m training`` command, each with ``register(subcommands)``."""

from training.commands import cost, evaluate, prepare, promote, status, stop, train, tune, upload

ALL = (prepare, upload, train, tune, status, stop, promote, evaluate, cost)
