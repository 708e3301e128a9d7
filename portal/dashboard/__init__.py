"""Where people land after signing in: an outlet's overview and the staff's work."""
