"""The Voicenter wire contract as data: paths, the outcomes table, the answers' shapes.
Standard library only, so the client shares it without the server's dependencies."""
