"""The technical meeting with the registered outlets (R9): scheduling, calendar invitations, replies."""
