"""The pages a Czech public body's site must have: accessibility statement, privacy notice, contacts."""
