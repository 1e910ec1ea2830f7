"""The training workflow of a stage, one idea per construct, composed by stacks/training_stack.py."""
