"""The openclaw-edge Pulumi program: one module per concern, each a ComponentResource."""
