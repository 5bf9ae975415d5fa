"""The domain: what a status request means, free of I/O."""
