"""What every submission to the office shares, whatever is submitted (an application, a permit request)."""
