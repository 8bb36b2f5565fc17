"""The operator: the only layer that imports kopf. Thin handlers over `flow`."""
