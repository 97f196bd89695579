"""What people read: the desk table and page, P&L figures and plots, message texts."""
