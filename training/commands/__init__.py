"""One module per ``python -m training`` command, each with ``register(subcommands)``."""

from training.commands import cost, evaluate, prepare, promote, status, stop, train, tune, upload

# In the order of the workflow (`--help` lists them so; deploy is `cdk deploy`), then the others.
ALL = (prepare, upload, train, promote, evaluate, tune, status, stop, cost)
