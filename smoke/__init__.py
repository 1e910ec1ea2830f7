"""The smoke test of a deployed stage: ``python -m smoke --stage dev`` (``scripts/smoke-test``).

``outputs`` reads the Serving stack's outputs and the API key, ``checks`` judges the API's answer,
``cli`` runs the client CLI on the shipped image between the two.
"""
