"""The Voicenter wire protocol: reading tolerant requests, rendering exact answers."""
