"""The shared core: names, stage settings, contracts and rules.

Standard library only, and it imports nothing of the project: stacks, Lambdas, CLIs and the client
depend on it, never on each other.
"""
