"""Reminders and announcements to residents and staff; notification preferences per person."""
