"""A symbol-day's steps, its artifacts, the production pointer and retention."""
