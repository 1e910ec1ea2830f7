"""Data preparation: Stanford Dogs into the algorithm's input layout, and its upload to S3."""
