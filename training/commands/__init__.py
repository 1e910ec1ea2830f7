"""One module per ``python -m training`` command, each with ``register(subcommands)``."""

from training.commands import prepare

ALL = (prepare,)
