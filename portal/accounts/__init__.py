"""Users, organisations, roles, sign-in and the staff second factor."""
