"""Trading after costs: fills, costs, the walk-forward P&L, bootstrap, the promotion gate."""
