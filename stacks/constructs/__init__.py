"""Constructs that model the product's parts; stacks compose them."""
