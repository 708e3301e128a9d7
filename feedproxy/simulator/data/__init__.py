"""Real names, codes and totals the simulator draws on (see ``_extract``)."""
