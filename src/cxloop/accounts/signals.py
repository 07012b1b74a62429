"""What the accounts domain announces."""

from cxloop.core.signals import signal

# payload: session, workspace (Workspace)
workspace_created = signal("accounts.workspace_created")
# payload: session, api_key (ApiKey)
api_key_revoked = signal("accounts.api_key_revoked")
