"""Fixtures of the stack tests; the synthesis itself lives in stack_synthesis.py."""

from stack_synthesis import dev, dev_without_model, prod, synthesis_root  # noqa: F401 - fixtures pytest finds here
