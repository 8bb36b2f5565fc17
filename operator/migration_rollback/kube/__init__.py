"""The only code that talks to the Kubernetes API (through the official client)."""
