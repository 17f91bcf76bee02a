"""Reminder rules and the reminders they schedule."""
