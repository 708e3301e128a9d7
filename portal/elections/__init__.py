"""Elections, their rounds, the application deadline and the access phase at any instant."""
