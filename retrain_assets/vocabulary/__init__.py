"""The words this product writes into Dagster's records: tag keys, partition keys, figures.

Below `resources/` and `defs/` (both read and write them) and above `core/`: Dagster's
vocabulary, no I/O, no settings.
"""
