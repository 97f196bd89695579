"""Adapters: the edges where the product meets files, networks, processes and Dagster's storage."""
