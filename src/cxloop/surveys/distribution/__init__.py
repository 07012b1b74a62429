"""Getting surveys to customers: email invitations and reminders, the suppression list and
unsubscribing, and the API of both. Triggers and contact fatigue are in
:mod:`cxloop.surveys.triggers` and :mod:`cxloop.surveys.fatigue`."""
