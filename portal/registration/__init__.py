"""The outlet's side: applications for access to the results XML server, per election."""
